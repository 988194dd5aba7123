#ifndef NETFAULT_PEER_H
#define NETFAULT_PEER_H

// The scripted socket peer: a program of its own, not part of the C shim. It runs
// in a child that CNetfault's spawner forked into a namespace (no exec, so it
// starts at once and shares the orchestrator's clock), and as `netfault peer WORDS…`.

#include <stddef.h>
#include <stdint.h>

/// A parsed peer script: see peer.c for the words it understands.
typedef struct nf_peer_script nf_peer_script;

/// Parses the words of a peer script. Returns NULL and writes a message that
/// names the offending word into `err` when the script is invalid.
nf_peer_script *nf_peer_parse(int argc, const char *const *argv, char *err, size_t errlen);
void nf_peer_free(nf_peer_script *script);

/// Runs a parsed script and exits the process; writes one JSON line per event
/// to fd 1. Times are seconds since `t0_ns` on CLOCK_MONOTONIC. Uses no malloc
/// and no stdio, so it is safe in a child forked from a threaded process.
_Noreturn void nf_peer_run(const nf_peer_script *script, int64_t t0_ns);

/// `netfault peer WORDS…`: parse, then run with t0 = now. Returns 2 on a bad script.
int nf_peer_main(int argc, const char *const *argv);

#endif
