package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/internal/idpserver"
	"github.com/renkei-idwsf/renkei/store"
)

// operatorTimeout bounds an operator command: the metadata load and every
// SOAP exchange with the SPs.
const operatorTimeout = 2 * time.Minute

// operate runs an operator command (logout, nim) against the store and
// metadata of configuration c, beside the running IdP or without it: the
// sessions and federations are in the shared store.
func operate(ctx context.Context, c *idpserver.File, args []string, out io.Writer, lg *slog.Logger) (err error) {
	cmds := map[string]func(context.Context, *idpserver.Server, []string, io.Writer) error{"logout": cmdLogout, "nim": cmdNIM}
	cmd, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q: want logout or nim", args[0])
	}
	ctx, cancel := context.WithTimeout(ctx, operatorTimeout)
	defer cancel()
	s, err := idpserver.Build(ctx, c, idpserver.Options{Log: lg})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Shutdown()) }()
	if err := s.Metadata.Refresh(ctx, time.Now()); err != nil {
		lg.Warn("metadata not all loaded, using what loaded", slog.String("error", err.Error()))
	}
	return cmd(ctx, s, args[1:], out)
}

// cmdLogout ends every session of a principal at the IdP's initiative and
// sends each participant a LogoutRequest over its SOAP SingleLogoutService
// (SAML Profiles §4.4.3.1, back channel); a participant without one, or
// that does not answer Success, makes the logout partial, reported as an
// error after every session was ended.
func cmdLogout(ctx context.Context, s *idpserver.Server, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("logout", flag.ContinueOnError)
	principal := fs.String("principal", "", "principal whose sessions end")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *principal == "" {
		return errors.New("logout: -principal is required")
	}
	sessions, err := s.Store.Sessions(ctx, *principal)
	if err != nil {
		return fmt.Errorf("sessions of %q: %w", *principal, err)
	}
	if len(sessions) == 0 {
		fmt.Fprintf(out, "%s has no session\n", *principal)
		return nil
	}
	var partial []string
	for _, sess := range sessions {
		c, err := s.SLO.Start(ctx, sess.ID, nil, false, time.Now())
		if err != nil {
			return fmt.Errorf("session %s: %w", sess.ID, err)
		}
		state := "logged out"
		if c.Partial {
			state, partial = "PartialLogout: not every participant logged out (see the log)", append(partial, sess.ID)
		}
		fmt.Fprintf(out, "session %s ended; participants %s: %s\n", sess.ID, participants(sess), state)
	}
	if len(partial) > 0 {
		return fmt.Errorf("partial logout of %s in session %s", *principal, strings.Join(partial, ", "))
	}
	return nil
}

func participants(s store.Session) string {
	var ids []string
	for _, p := range s.Participants {
		ids = append(ids, p.ProviderID)
	}
	if len(ids) == 0 {
		return "(none)"
	}
	return strings.Join(ids, ", ")
}

// cmdNIM sends an SP an IdP-initiated ManageNameIDRequest over SOAP
// (SAML Profiles §4.5): -terminate ends the federation, -newid gives it a
// fresh NameID.
func cmdNIM(ctx context.Context, s *idpserver.Server, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("nim", flag.ContinueOnError)
	principal := fs.String("principal", "", "principal of the federation")
	sp := fs.String("sp", "", "entityID of the SP")
	terminate := fs.Bool("terminate", false, "terminate the federation")
	newID := fs.Bool("newid", false, "give the federation a new NameID")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *principal == "" || *sp == "" || *terminate == *newID {
		return errors.New("nim: -principal, -sp and exactly one of -terminate and -newid are required")
	}
	now := time.Now()
	if *terminate {
		if err := s.SSO.TerminateFederation(ctx, *principal, *sp, now); err != nil {
			return fmt.Errorf("terminate %s at %s: %w", *principal, *sp, err)
		}
		fmt.Fprintf(out, "federation of %s with %s terminated; the SP confirmed\n", *principal, *sp)
		return nil
	}
	nid, err := s.SSO.ChangeNameID(ctx, *principal, *sp, now)
	if err != nil {
		return fmt.Errorf("new NameID for %s at %s: %w", *principal, *sp, err)
	}
	fmt.Fprintf(out, "federation of %s with %s has the new NameID %s; the SP confirmed\n", *principal, *sp, nid.Value)
	return nil
}
