package kut

import (
	"fmt"
	"strings"
)

// Split cuts a configuration value into words as the shell that the
// suite's scripts eval it in would: blanks separate words, single quotes
// keep everything literally, double quotes keep blanks (a backslash
// escapes ", \, $ and ` in them), a backslash outside quotes escapes the
// next character. Command substitution and variables are not expanded:
// a value with a backquote or $( is refused, since its words cannot be
// known without running it.
func Split(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				} else if s[i] == '`' || (s[i] == '$' && i+1 < len(s) && s[i+1] == '(') {
					return nil, fmt.Errorf("%q needs the shell to run a command", s)
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '`' || (c == '$' && i+1 < len(s) && s[i+1] == '('):
			return nil, fmt.Errorf("%q needs the shell to run a command", s)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
