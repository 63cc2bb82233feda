package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/kvmscope/kvmscope/samples"
)

// readImage reads IMAGE: a file, or sample:NAME for an embedded sample.
func readImage(arg string) ([]byte, error) {
	if name, ok := strings.CutPrefix(arg, "sample:"); ok {
		return samples.Image(name)
	}
	data, err := os.ReadFile(arg)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("image %s: no such file", arg)
		}
		return nil, fmt.Errorf("image %s: %w", arg, err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("image %s: empty file", arg)
	}
	return data, nil
}

// imageArg picks the image from the positional arguments and --kernel.
func imageArg(pos []string, kernel string) (string, error) {
	switch {
	case kernel != "" && len(pos) > 0:
		return "", fmt.Errorf("both --kernel %s and IMAGE %s given: name one image", kernel, pos[0])
	case kernel != "":
		return kernel, nil
	case len(pos) == 0:
		return "", errors.New("no image: give IMAGE, --kernel FILE or sample:NAME (kvmscope samples lists them)")
	case len(pos) > 1:
		return "", fmt.Errorf("one image, got %d arguments: %s", len(pos), strings.Join(pos, " "))
	}
	return pos[0], nil
}
