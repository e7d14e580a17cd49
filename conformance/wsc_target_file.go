package conformance

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// wscFile is the JSON "wsc target" file of the command line: the fields
// of an sp target file (the WSC as an SP and the suite's IdP), and page
// (the URL that shows the service's answer), serviceType (optional), ds
// and wsp (the suite's peers: entityID and a PEM key file, created with a
// self-signed certificate when missing), listen (the loopback host:port of
// the suite's TLS listener for both) and tls (a PEM file with the key and
// certificate of that listener, which the WSC must trust: the operator
// issues it from a CA the WSC trusts). File names are relative to the file.
type wscFile struct {
	Page        string       `json:"page"`
	ServiceType string       `json:"serviceType,omitempty"`
	DS          suitePeerKey `json:"ds"`
	WSP         suitePeerKey `json:"wsp"`
	Listen      string       `json:"listen"`
	TLS         string       `json:"tls"`
}

type suitePeerKey struct {
	EntityID string `json:"entityID"`
	Key      string `json:"key"`
}

// LoadWSCTarget reads a wsc target file and the files it names; the WSC's
// metadata is fetched with client when it is a URL.
func LoadWSCTarget(ctx context.Context, name string, client *http.Client, now time.Time) (*WSCTarget, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var f wscFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("conformance: wsc target %s: %w", name, err)
	}
	st, err := LoadSPTarget(ctx, name, client, now)
	if err != nil {
		return nil, err
	}
	t, err := f.peers(filepath.Dir(name), now)
	if err != nil {
		return nil, err
	}
	t.SP = st
	t.Init()
	return t, t.Validate()
}

// ReadWSCPeers reads the suite's DS and WSP of a wsc target file without
// the WSC (to print their metadata), creating missing keys.
func ReadWSCPeers(name string, now time.Time) (*WSCTarget, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var f wscFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("conformance: wsc target %s: %w", name, err)
	}
	return f.peers(filepath.Dir(name), now)
}

func (f *wscFile) peers(dir string, now time.Time) (*WSCTarget, error) {
	t := &WSCTarget{Page: f.Page, ServiceType: f.ServiceType, Listen: f.Listen}
	var err error
	if t.DS, err = f.DS.load(dir, "Renkei conformance DS", now); err != nil {
		return nil, err
	}
	if t.WSP, err = f.WSP.load(dir, "Renkei conformance WSP", now); err != nil {
		return nil, err
	}
	if f.TLS == "" {
		return nil, errors.New("conformance: wsc target: tls names no PEM file")
	}
	if t.TLS, err = tls.LoadX509KeyPair(relTo(dir, f.TLS), relTo(dir, f.TLS)); err != nil {
		return nil, fmt.Errorf("conformance: wsc target tls: %w", err)
	}
	return t, nil
}

func (p suitePeerKey) load(dir, cn string, now time.Time) (SuitePeer, error) {
	if p.EntityID == "" || p.Key == "" {
		return SuitePeer{}, fmt.Errorf("conformance: wsc target: %s needs entityID and key", cn)
	}
	file := relTo(dir, p.Key)
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		if b, err = newKeyPEM(cn, now); err == nil {
			err = os.WriteFile(file, b, 0o600)
		}
	}
	if err != nil {
		return SuitePeer{}, err
	}
	k, c, err := parseKeyCert(b)
	if err != nil {
		return SuitePeer{}, fmt.Errorf("conformance: %s key %s: %w", cn, file, err)
	}
	return SuitePeer{EntityID: p.EntityID, Key: k, Cert: c}, nil
}
