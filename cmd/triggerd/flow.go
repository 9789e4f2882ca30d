package main

import "errors"

type flowCmd struct{}

func (c *flowCmd) Run() error { return errors.New("flow: not implemented yet") }
