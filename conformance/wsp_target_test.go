package conformance

import (
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// TestWSPTargetValidate: a description's problems are reported at once.
func TestWSPTargetValidate(t *testing.T) {
	tests := []struct {
		name   string
		target WSPTarget
		want   []string
	}{
		{"fail/empty-appointment", WSPTarget{ServiceType: dst.Appointment,
			Write: &WSPWrite{Item: "Slot", Values: map[string]string{"Doctor": "x"}}},
			[]string{"an entityID, an address", "encryption key", "ds needs", "wsc needs", "otherWSC", "local identifier",
				`no Create of "Slot"`, `"Doctor" is not an input field`}},
		{"fail/unknown-service", WSPTarget{ServiceType: "urn:renkei:svc:none"}, []string{"not one of the federation's catalog"}},
		{"fail/unknown-item", WSPTarget{ServiceType: dst.Clinical, Items: []string{"Slot"}}, []string{`no item type "Slot"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.target.Validate()
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to name %q", err, w)
				}
			}
		})
	}
}
