package security

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// TestLeakDetector shows that the scan of the other tests finds a canary as is, in base64
// and in hexadecimal, and finds nothing in clean text: a scan that finds nothing proves
// something only if it would have found a leak.
func TestLeakDetector(t *testing.T) {
	for _, c := range append(append([]canary{}, secrets...), personal...) {
		for _, text := range []string{
			"before " + c.value + " after",
			`{"msg":"x","v":"` + base64.StdEncoding.EncodeToString([]byte(c.value)) + `"}`,
			"k=" + hex.EncodeToString([]byte(c.value)),
		} {
			if len(leaks([]byte(text), secrets, personal)) == 0 {
				t.Errorf("the %s is not found in %q", c.name, text)
			}
		}
	}
	clean := `{"level":"INFO","msg":"ordergate started","client_id":"` + clientID + `","user":"` + saslUser + `","masked":"***"}`
	if found := leaks([]byte(clean), secrets, personal); len(found) != 0 {
		t.Errorf("false positives in clean text: %v", found)
	}
	// The requests of testdata carry the personal data that the scans look for.
	for _, name := range []string{"disconnect.json", "update.json", "account.json"} {
		data := string(testdata(t, name))
		for _, v := range []string{personalPhone, personalEmail} {
			if !strings.Contains(data, v) {
				t.Errorf("testdata/%s lacks %q", name, v)
			}
		}
	}
}
