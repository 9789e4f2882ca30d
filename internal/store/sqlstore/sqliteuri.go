package sqlstore

import (
	"net/url"
	"path/filepath"
	"strings"
)

// sqliteDSN is the driver's name for the database at path, with the
// connection parameters q. A path is taken literally, whatever characters
// it holds: SQLite URIs (https://www.sqlite.org/uri.html) give '?' and '#'
// a meaning and decode '%' escapes, so those three are escaped; without
// that, --db 'odd?name.db' opened a database called "odd". Only a path
// written as a URI ("file:…") is read as one, its own parameters kept.
func sqliteDSN(path string, q url.Values) string {
	if strings.HasPrefix(path, "file:") {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		return path + sep + q.Encode()
	}
	if strings.HasPrefix(path, "//") {
		// "file://x" would name host x: one leading slash means the same
		// file.
		path = filepath.Clean(path)
	}
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped + "?" + q.Encode()
}
