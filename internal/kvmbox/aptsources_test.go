package kvmbox

import (
	"strings"
	"testing"
)

const debianSources = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`

func TestBackportsSource(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    map[string]string
		wantPath string
		want     string // exact contents; "" when nothing to add
		wantErr  string
	}{
		{
			name:     "deb822",
			files:    map[string]string{"/etc/apt/sources.list.d/debian.sources": debianSources},
			wantPath: "/etc/apt/sources.list.d/kvmbox-backports.sources",
			want: `# Added by kvmbox setup: QEMU >= 10 for the nested-KVM sandbox.
Types: deb
URIs: http://deb.debian.org/debian
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
Suites: bookworm-backports
Components: main
`,
		},
		{
			name: "one-line",
			files: map[string]string{"/etc/apt/sources.list": `# deb cdrom:[Debian]/ bookworm main
deb http://ftp.de.debian.org/debian/ bookworm main non-free-firmware
deb-src http://ftp.de.debian.org/debian/ bookworm main
deb http://security.debian.org/debian-security bookworm-security main
`},
			wantPath: "/etc/apt/sources.list.d/kvmbox-backports.list",
			want: "# Added by kvmbox setup: QEMU >= 10 for the nested-KVM sandbox.\n" +
				"deb http://ftp.de.debian.org/debian/ bookworm-backports main\n",
		},
		{
			name:     "one-line with options",
			files:    map[string]string{"/etc/apt/sources.list": "deb [arch=amd64 signed-by=/k.gpg] http://mirror/debian bookworm main\n"},
			wantPath: "/etc/apt/sources.list.d/kvmbox-backports.list",
			want: "# Added by kvmbox setup: QEMU >= 10 for the nested-KVM sandbox.\n" +
				"deb [arch=amd64 signed-by=/k.gpg] http://mirror/debian bookworm-backports main\n",
		},
		{
			name: "already there (deb822, own file)",
			files: map[string]string{
				"/etc/apt/sources.list.d/debian.sources":             debianSources,
				"/etc/apt/sources.list.d/kvmscope-backports.sources": "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\n",
			},
		},
		{
			name: "already there (one-line)",
			files: map[string]string{
				"/etc/apt/sources.list": "deb http://m/debian bookworm main\ndeb http://m/debian bookworm-backports main contrib\n",
			},
		},
		{
			name: "disabled backports does not count",
			files: map[string]string{
				"/etc/apt/sources.list.d/debian.sources": debianSources + "\nTypes: deb\nURIs: http://x/debian\nSuites: bookworm-backports\nComponents: main\nEnabled: no\n",
			},
			wantPath: "/etc/apt/sources.list.d/kvmbox-backports.sources",
			want:     "any",
		},
		{
			name:     "inline key kept",
			files:    map[string]string{"/etc/apt/sources.list.d/x.sources": "Types: deb deb-src\nURIs: http://m/debian\nSuites: bookworm\nComponents: main contrib\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n -----END PGP PUBLIC KEY BLOCK-----\n"},
			wantPath: "/etc/apt/sources.list.d/kvmbox-backports.sources",
			want: "# Added by kvmbox setup: QEMU >= 10 for the nested-KVM sandbox.\nTypes: deb\nURIs: http://m/debian\n" +
				"Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n -----END PGP PUBLIC KEY BLOCK-----\n" +
				"Suites: bookworm-backports\nComponents: main\n",
		},
		{
			name:    "no bookworm entry",
			files:   map[string]string{"/etc/apt/sources.list": "deb http://archive.ubuntu.com/ubuntu noble main\n"},
			wantErr: `no "bookworm" entry`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, content, err := backportsSource(tc.files, "bookworm")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if path != tc.wantPath {
				t.Fatalf("path = %q, want %q", path, tc.wantPath)
			}
			if tc.want != "any" && content != tc.want {
				t.Fatalf("content:\n%s\nwant:\n%s", content, tc.want)
			}
			if path != "" {
				// What we write must itself count as a backports entry.
				files := map[string]string{path: content}
				if p, _, err := backportsSource(files, "bookworm"); err != nil || p != "" {
					t.Fatalf("written entry not recognized: %q %v", p, err)
				}
			}
		})
	}
}

func TestParseOSRelease(t *testing.T) {
	r := parseOSRelease(`PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION_CODENAME=bookworm
ID=debian
`)
	if !r.isBookworm() || r.Pretty != "Debian GNU/Linux 12 (bookworm)" {
		t.Fatalf("got %+v", r)
	}
	u := parseOSRelease("ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\n")
	if u.isBookworm() || u.IDLike != "debian" || u.Pretty != "ubuntu noble" {
		t.Fatalf("got %+v", u)
	}
	if parseOSRelease("").Pretty != "unknown system" {
		t.Fatal("empty os-release not reported as unknown")
	}
}
