module github.com/kvmscope/kvmscope

go 1.24

require (
	golang.org/x/arch v0.32.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
