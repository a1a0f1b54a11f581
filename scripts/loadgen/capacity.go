package main

func runCapacity(o options) error { return nil }
