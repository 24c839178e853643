// Package domain is Backbone's pure core: the aggregates of a Collective Impact
// effort (partners, issues, objectives, measures, commitments), the events that
// record every change to them, the rules that decide commands, and the error
// vocabulary every adapter maps. It depends on the standard library and uuid only.
//
// A command is decided by a function of the aggregate's past events; state is a
// fold over them. Commands wires those decisions to a Store with optimistic
// concurrency per aggregate.
package domain
