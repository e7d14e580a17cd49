package saml

import "time"

// CheckConditions checks the assertion's Conditions at now, allowing skew
// either way, for the relying party audience (its entity ID):
// NotBefore <= now+skew and now-skew < NotOnOrAfter (SAML Core §2.5.1.2),
// and every AudienceRestriction names audience (§2.5.1.4). An assertion
// without any AudienceRestriction is refused: an ID-WSF token must name
// the provider it is for (IDWSF2 §3.4 item 5), and Renkei applies the same
// rule to every assertion it relies on.
func (a *Assertion) CheckConditions(now time.Time, skew time.Duration, audience string) error {
	c := a.Conditions
	if c == nil {
		return Errorf(KindAudience, "assertion %s has no Conditions", a.ID)
	}
	if err := checkWindow(c.NotBefore, c.NotOnOrAfter, now, skew); err != nil {
		return err
	}
	return c.checkAudience(audience)
}

func (c *Conditions) checkAudience(audience string) error {
	if len(c.AudienceRestrictions) == 0 {
		return Errorf(KindAudience, "no AudienceRestriction")
	}
	for _, r := range c.AudienceRestrictions {
		if !r.Allows(audience) {
			return Errorf(KindAudience, "restricted to %q, not %q", r.Audiences, audience)
		}
	}
	return nil
}

// Allows reports whether one of the restriction's audiences is audience.
func (r AudienceRestriction) Allows(audience string) bool {
	for _, a := range r.Audiences {
		if a == audience {
			return true
		}
	}
	return false
}

// CheckWindow checks the confirmation data's own NotBefore and
// NotOnOrAfter at now, allowing skew (SAML Core §2.4.1.2).
func (d *SubjectConfirmationData) CheckWindow(now time.Time, skew time.Duration) error {
	if d == nil {
		return nil
	}
	return checkWindow(d.NotBefore, d.NotOnOrAfter, now, skew)
}

func checkWindow(notBefore, notOnOrAfter, now time.Time, skew time.Duration) error {
	if !notBefore.IsZero() && now.Add(skew).Before(notBefore) {
		return Errorf(KindNotYetValid, "NotBefore %s, now %s", notBefore.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	if !notOnOrAfter.IsZero() && !now.Add(-skew).Before(notOnOrAfter) {
		return Errorf(KindExpired, "NotOnOrAfter %s, now %s", notOnOrAfter.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	return nil
}

// ConfirmationsBy returns the subject confirmations whose Method is method.
func (s *Subject) ConfirmationsBy(method string) []SubjectConfirmation {
	if s == nil {
		return nil
	}
	var out []SubjectConfirmation
	for _, c := range s.Confirmations {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}
