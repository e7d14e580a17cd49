package main

import (
	"context"
	"errors"
)

func (d *demo) walk(ctx context.Context) error { return errors.New("not yet") }
