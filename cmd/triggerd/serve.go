package main

import "errors"

type serveCmd struct{}

func (c *serveCmd) Run() error { return errors.New("serve: not implemented yet") }

type keysCmd struct{}

func (c *keysCmd) Run() error { return errors.New("keys: not implemented yet") }

type publishCmd struct{}

func (c *publishCmd) Run() error { return errors.New("publish: not implemented yet") }
