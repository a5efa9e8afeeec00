// Command hello is a program to cross-compile in TestToolIDOnEveryPlatform.
package main

func main() { println("hello") }
