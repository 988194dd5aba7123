// The scripted socket peer: a program that makes exactly the socket calls a
// scenario asks for and prints one JSON line per event to fd 1.
//
// Grammar (argv holds only the words, no program name; executed in order):
//
//   listen ADDR PORT [BACKLOG]   socket, SO_REUSEADDR, bind, listen (default 128)
//   accept                       accept one connection: the new current connection
//   connect ADDR PORT [TIMEOUT_MS]
//                                new socket, connect; with TIMEOUT_MS a non-blocking
//                                connect that fails with ETIMEDOUT when time is up
//   bind ADDR PORT               bind the next connect's socket (PORT may be 0)
//   write BYTES [COUNT [PAUSE_MS]]
//                                BYTES of 'x' in COUNT write() calls, PAUSE_MS apart
//   read BYTES                   read until BYTES arrived or EOF
//   read-eof                     read until EOF
//   sleep MS
//   nodelay                      TCP_NODELAY 1
//   keepalive IDLE_S INTVL_S COUNT
//                                SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT
//   linger0                      SO_LINGER {1, 0}: close sends RST
//   rcvbuf BYTES                 SO_RCVBUF
//   user-timeout MS              TCP_USER_TIMEOUT: how long sent data (or a SYN) may stay
//                                unacknowledged before the connection fails with ETIMEDOUT
//   shutdown-wr                  shutdown(SHUT_WR) on the current connection
//   close                        close the current connection
//   close-listener
//   hold                         sleep until killed
//   exit [STATUS]                _exit(STATUS) with sockets still open (a crash)
//   repeat N … end               run the enclosed words N times (nestable)
//   udp-bind ADDR PORT           a UDP socket bound there: the current datagram socket
//   sendto ADDR PORT BYTES       one datagram of BYTES 'x' (0-65507) from the current
//                                datagram socket (a new unbound one if there is none)
//   recvfrom [TIMEOUT_MS]        one datagram, its whole size as the result (MSG_TRUNC);
//                                when none comes within TIMEOUT_MS (default 1000), result
//                                -1 with EAGAIN, and the script goes on
//
// nodelay, keepalive, linger0, rcvbuf and user-timeout apply at once to the current
// connection; without one they are remembered for the next socket the peer
// makes (connect's, listen's — accepted sockets inherit them — or accept's).
// bind is always remembered for the next connect. connect and accept do not
// close a previous connection: it stays open, unreachable, until exit.
//
// Events: {"t":S,"call":C,"result":R[,"errno":E][,"local":A,"remote":A][,"eof":B]}
// with t in seconds since t0. Calls: start (with "pid"), listen, accept,
// connect, bind, nodelay, keepalive, linger0, rcvbuf, user-timeout, write, read, shutdown,
// close, close-listener, hold, exit, udp-bind, sendto, recvfrom. A failing syscall prints its step's event
// with result -1 and errno, then exit 1. A step whose socket does not exist
// fails with ENOTCONN when that cannot be ruled out at parse time.
// Error positions count argv entries from 1.
#define _GNU_SOURCE
#include "NetfaultPeer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// MARK: - The parsed script

enum op {
    OP_LISTEN, OP_ACCEPT, OP_CONNECT, OP_BIND, OP_WRITE, OP_READ, OP_READ_EOF,
    OP_SLEEP, OP_NODELAY, OP_KEEPALIVE, OP_LINGER0, OP_RCVBUF, OP_USER_TIMEOUT, OP_SHUTDOWN_WR,
    OP_CLOSE, OP_CLOSE_LISTENER, OP_HOLD, OP_EXIT, OP_REPEAT, OP_END,
    OP_UDP_BIND, OP_SENDTO, OP_RECVFROM,
};

// Nesting is bounded so the run can keep its loop counters on the stack.
#define MAX_DEPTH 32
// Keeps every derived value (ns, sums) far from int64 overflow.
#define BIG ((uint64_t)1 << 62)
// One write() call's buffer is mapped up front; bound its size.
#define MAX_CHUNK ((uint64_t)1 << 30)

struct step {
    enum op op;
    int word;               // argv position, 1-based, for messages
    size_t match;           // repeat <-> end partner
    int64_t n[3];           // numeric arguments in order (after ADDR)
    socklen_t addrlen;      // 0 when the word takes no address
    struct sockaddr_storage addr;
};

struct nf_peer_script {
    size_t nsteps;
    size_t max_chunk;       // largest single write(), mapped before start
    struct step steps[];
};

// MARK: - Word table

struct arg {
    const char *name;       // "ADDR" marks an address; the rest are numbers
    uint64_t min, max;
};

static const struct arg A_ADDR = {"ADDR", 0, 0};
static const struct arg A_PORT = {"PORT", 0, 65535};
static const struct arg A_BACKLOG = {"BACKLOG", 0, INT_MAX};
static const struct arg A_TIMEOUT = {"TIMEOUT_MS", 1, INT_MAX};
static const struct arg A_BYTES = {"BYTES", 0, BIG};
static const struct arg A_RBYTES = {"BYTES", 1, BIG};
static const struct arg A_COUNT = {"COUNT", 1, 1000000000};
static const struct arg A_MS = {"MS", 0, INT_MAX};
static const struct arg A_PAUSE = {"PAUSE_MS", 0, INT_MAX};
// The kernel's own limits (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT),
// checked here so a typo is a parse error and not a run-time EINVAL.
static const struct arg A_IDLE = {"IDLE_S", 1, 32767};
static const struct arg A_INTVL = {"INTVL_S", 1, 32767};
static const struct arg A_KCOUNT = {"COUNT", 1, 127};
static const struct arg A_BUF = {"BYTES", 0, INT_MAX};
// 0 would mean the system default, which the word is there to replace.
static const struct arg A_UTO = {"MS", 1, INT_MAX};
static const struct arg A_STATUS = {"STATUS", 0, 255};
static const struct arg A_N = {"N", 1, BIG};
// 65535 less the IPv4 and UDP headers: the largest datagram either family can send.
static const struct arg A_DGRAM = {"BYTES", 0, 65507};

struct word_def {
    const char *name;
    enum op op;
    int nreq;                       // required arguments, then optional ones
    const struct arg *args[3];
    int64_t defaults[3];            // for optional numbers
    const char *usage;
};

static const struct word_def words[] = {
    {"listen", OP_LISTEN, 2, {&A_ADDR, &A_PORT, &A_BACKLOG}, {0, 128}, "listen ADDR PORT [BACKLOG]"},
    {"accept", OP_ACCEPT, 0, {0}, {0}, "accept"},
    {"connect", OP_CONNECT, 2, {&A_ADDR, &A_PORT, &A_TIMEOUT}, {0, 0}, "connect ADDR PORT [TIMEOUT_MS]"},
    {"bind", OP_BIND, 2, {&A_ADDR, &A_PORT}, {0}, "bind ADDR PORT"},
    {"write", OP_WRITE, 1, {&A_BYTES, &A_COUNT, &A_PAUSE}, {0, 1, 0}, "write BYTES [COUNT [PAUSE_MS]]"},
    {"read", OP_READ, 1, {&A_RBYTES}, {0}, "read BYTES"},
    {"read-eof", OP_READ_EOF, 0, {0}, {0}, "read-eof"},
    {"sleep", OP_SLEEP, 1, {&A_MS}, {0}, "sleep MS"},
    {"nodelay", OP_NODELAY, 0, {0}, {0}, "nodelay"},
    {"keepalive", OP_KEEPALIVE, 3, {&A_IDLE, &A_INTVL, &A_KCOUNT}, {0}, "keepalive IDLE_S INTVL_S COUNT"},
    {"linger0", OP_LINGER0, 0, {0}, {0}, "linger0"},
    {"rcvbuf", OP_RCVBUF, 1, {&A_BUF}, {0}, "rcvbuf BYTES"},
    {"user-timeout", OP_USER_TIMEOUT, 1, {&A_UTO}, {0}, "user-timeout MS"},
    {"shutdown-wr", OP_SHUTDOWN_WR, 0, {0}, {0}, "shutdown-wr"},
    {"close", OP_CLOSE, 0, {0}, {0}, "close"},
    {"close-listener", OP_CLOSE_LISTENER, 0, {0}, {0}, "close-listener"},
    {"hold", OP_HOLD, 0, {0}, {0}, "hold"},
    {"exit", OP_EXIT, 0, {&A_STATUS}, {0}, "exit [STATUS]"},
    {"repeat", OP_REPEAT, 1, {&A_N}, {0}, "repeat N"},
    {"end", OP_END, 0, {0}, {0}, "end"},
    {"udp-bind", OP_UDP_BIND, 2, {&A_ADDR, &A_PORT}, {0}, "udp-bind ADDR PORT"},
    {"sendto", OP_SENDTO, 3, {&A_ADDR, &A_PORT, &A_DGRAM}, {0}, "sendto ADDR PORT BYTES"},
    {"recvfrom", OP_RECVFROM, 0, {&A_TIMEOUT}, {1000}, "recvfrom [TIMEOUT_MS]"},
};
#define NWORDS (sizeof words / sizeof words[0])

static const struct word_def *def_of(enum op op) {
    for (size_t i = 0; i < NWORDS; i++)
        if (words[i].op == op) return &words[i];
    return NULL;
}

// MARK: - Parsing (parent side: may allocate and use stdio)

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (err == NULL || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool all_digits(const char *s) {
    if (*s == '\0') return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

// Strict unsigned decimal: no sign, no spaces, no suffix; false on overflow.
static bool parse_u64(const char *s, uint64_t *out) {
    if (!all_digits(s)) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool parse_addr(const char *s, struct step *st) {
    struct sockaddr_in *in4 = (struct sockaddr_in *)&st->addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&st->addr;
    memset(&st->addr, 0, sizeof st->addr);
    if (inet_pton(AF_INET, s, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        st->addrlen = sizeof *in4;
        return true;
    }
    if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        st->addrlen = sizeof *in6;
        return true;
    }
    return false;
}

static void set_port(struct step *st, uint16_t port) {
    if (st->addr.ss_family == AF_INET) ((struct sockaddr_in *)&st->addr)->sin_port = htons(port);
    else ((struct sockaddr_in6 *)&st->addr)->sin6_port = htons(port);
}

// Reads one number argument into *v; false with a message naming the word.
static bool parse_number(const struct arg *a, const char *tok, const struct word_def *d,
                         int pos, int64_t *v, char *err, size_t errlen) {
    uint64_t u;
    if (!parse_u64(tok, &u)) {
        if (all_digits(tok))
            set_err(err, errlen, "word %d (%s): %s \"%s\" is too large", pos, d->name, a->name, tok);
        else
            set_err(err, errlen, "word %d (%s): %s \"%s\" is not a number (usage: %s)",
                    pos, d->name, a->name, tok, d->usage);
        return false;
    }
    if (u < a->min || u > a->max) {
        if (a == &A_PORT)
            set_err(err, errlen, "word %d (%s): \"%s\" is not a port (0-65535)", pos, d->name, tok);
        else if (a->max >= BIG)
            set_err(err, errlen, "word %d (%s): %s must be at least %llu, got \"%s\"",
                    pos, d->name, a->name, (unsigned long long)a->min, tok);
        else
            set_err(err, errlen, "word %d (%s): %s must be %llu-%llu, got \"%s\"", pos, d->name,
                    a->name, (unsigned long long)a->min, (unsigned long long)a->max, tok);
        return false;
    }
    *v = (int64_t)u;
    return true;
}

// Parses the word at argv[*i] and its arguments into *st, advancing *i.
static bool parse_word(int argc, const char *const *argv, int *i, struct step *st,
                       char *err, size_t errlen) {
    int pos = *i + 1;
    const char *tok = argv[*i];
    const struct word_def *d = NULL;
    for (size_t k = 0; k < NWORDS && d == NULL; k++)
        if (strcmp(words[k].name, tok) == 0) d = &words[k];
    if (d == NULL) {
        if (all_digits(tok) && *i > 0)
            set_err(err, errlen, "word %d (\"%s\"): a number where a word was expected "
                    "(too many arguments before it?)", pos, tok);
        else
            set_err(err, errlen, "word %d (\"%s\"): unknown peer word", pos, tok);
        return false;
    }
    memset(st, 0, sizeof *st);
    st->op = d->op;
    st->word = pos;
    (*i)++;
    int nnum = 0;
    for (int k = 0; k < 3 && d->args[k] != NULL; k++) {
        const struct arg *a = d->args[k];
        bool optional = k >= d->nreq;
        // Word names are never numbers, so an optional argument is present
        // exactly when the next entry is one.
        if (optional && (*i >= argc || !all_digits(argv[*i]))) {
            st->n[nnum] = d->defaults[nnum];
            nnum++;
            continue;
        }
        if (*i >= argc) {
            set_err(err, errlen, "word %d (%s): missing %s (usage: %s)", pos, d->name, a->name, d->usage);
            return false;
        }
        const char *arg = argv[(*i)++];
        if (a == &A_ADDR) {
            if (!parse_addr(arg, st)) {
                set_err(err, errlen, "word %d (%s): \"%s\" is not an IPv4 or IPv6 address",
                        pos, d->name, arg);
                return false;
            }
            continue;
        }
        if (!parse_number(a, arg, d, pos, &st->n[nnum], err, errlen)) return false;
        nnum++;
    }
    if (st->addrlen) set_port(st, (uint16_t)st->n[0]);
    if (st->op == OP_WRITE) {
        uint64_t chunk = ((uint64_t)st->n[0] + (uint64_t)st->n[1] - 1) / (uint64_t)st->n[1];
        if (chunk > MAX_CHUNK) {
            set_err(err, errlen, "word %d (write): one write() call of %llu bytes is more than "
                    "the 1 GiB limit (raise COUNT)", pos, (unsigned long long)chunk);
            return false;
        }
    }
    return true;
}

// Pairs every repeat with its end.
static bool match_repeats(nf_peer_script *s, char *err, size_t errlen) {
    size_t stack[MAX_DEPTH];
    size_t depth = 0;
    for (size_t i = 0; i < s->nsteps; i++) {
        struct step *st = &s->steps[i];
        if (st->op == OP_REPEAT) {
            if (depth == MAX_DEPTH) {
                set_err(err, errlen, "word %d (repeat): repeats nested deeper than %d", st->word, MAX_DEPTH);
                return false;
            }
            stack[depth++] = i;
        } else if (st->op == OP_END) {
            if (depth == 0) {
                set_err(err, errlen, "word %d (end): no repeat to end", st->word);
                return false;
            }
            size_t r = stack[--depth];
            st->match = r;
            s->steps[r].match = i;
        }
    }
    if (depth > 0) {
        set_err(err, errlen, "word %d (repeat): no matching end", s->steps[stack[depth - 1]].word);
        return false;
    }
    return true;
}

// MARK: - Static check: which sockets can exist at each step

// Abstract state of one socket slot: a set of possibilities.
enum { MAY_ABSENT = 1, MAY_PRESENT = 2 };

struct absstate {
    uint8_t conn, lsn;      // 0 and 0: the step is unreachable
};

static bool needs_conn(enum op op) {
    return op == OP_WRITE || op == OP_READ || op == OP_READ_EOF || op == OP_SHUTDOWN_WR || op == OP_CLOSE;
}

static bool needs_listener(enum op op) {
    return op == OP_ACCEPT || op == OP_CLOSE_LISTENER;
}

static struct absstate transfer(const struct step *st, struct absstate s) {
    switch (st->op) {
    case OP_LISTEN: s.lsn = MAY_PRESENT; break;
    case OP_ACCEPT:
    case OP_CONNECT: s.conn = MAY_PRESENT; break;
    case OP_CLOSE: s.conn = MAY_ABSENT; break;
    case OP_CLOSE_LISTENER: s.lsn = MAY_ABSENT; break;
    default: break;
    }
    return s;
}

static bool merge(struct absstate *into, struct absstate s) {
    struct absstate old = *into;
    into->conn |= s.conn;
    into->lsn |= s.lsn;
    return old.conn != into->conn || old.lsn != into->lsn;
}

// Forward data flow to a fixed point. The only branches are loop back edges
// (repeat with N >= 2), so a socket that is absent on every path reaching a
// step is certainly absent: that step is a parse error. "Maybe" is left to the
// run-time ENOTCONN check.
static bool check_sockets(const nf_peer_script *s, char *err, size_t errlen) {
    size_t n = s->nsteps;
    if (n == 0) return true;
    struct absstate *in = calloc(n, sizeof *in);
    if (in == NULL) {
        set_err(err, errlen, "out of memory");
        return false;
    }
    in[0] = (struct absstate){MAY_ABSENT, MAY_ABSENT};
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < n; i++) {
            const struct step *st = &s->steps[i];
            if (in[i].conn == 0) continue;
            if (st->op == OP_EXIT || st->op == OP_HOLD) continue;  // no successor
            struct absstate out = transfer(st, in[i]);
            if (i + 1 < n) changed |= merge(&in[i + 1], out);
            if (st->op == OP_END && s->steps[st->match].n[0] >= 2)
                changed |= merge(&in[st->match + 1], out);
        }
    }
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        const struct step *st = &s->steps[i];
        const char *name = def_of(st->op)->name;
        if (needs_conn(st->op) && in[i].conn == MAY_ABSENT) {
            set_err(err, errlen, "word %d (%s): no current connection here (connect or accept first)",
                    st->word, name);
            ok = false;
        } else if (needs_listener(st->op) && in[i].lsn == MAY_ABSENT) {
            set_err(err, errlen, "word %d (%s): no listener here (listen first)", st->word, name);
            ok = false;
        }
    }
    free(in);
    return ok;
}

// A bind is only used by a later connect: one must follow it in the text or
// earlier in the body of a repeat that runs again. Returns it, or NULL.
static const struct step *next_connect(const nf_peer_script *s, size_t b) {
    for (size_t j = b + 1; j < s->nsteps; j++) {
        const struct step *st = &s->steps[j];
        if (st->op == OP_CONNECT) return st;
        if (st->op == OP_END && st->match < b && s->steps[st->match].n[0] >= 2)
            for (size_t k = st->match + 1; k < b; k++)
                if (s->steps[k].op == OP_CONNECT) return &s->steps[k];
    }
    return NULL;
}

static const char *family_name(const struct step *st) {
    return st->addr.ss_family == AF_INET ? "IPv4" : "IPv6";
}

// Catches at parse time what would be a run-time EINVAL from bind().
static bool check_binds(const nf_peer_script *s, char *err, size_t errlen) {
    for (size_t i = 0; i < s->nsteps; i++) {
        const struct step *b = &s->steps[i];
        if (b->op != OP_BIND) continue;
        const struct step *c = next_connect(s, i);
        if (c == NULL) {
            set_err(err, errlen, "word %d (bind): no connect after it to bind", b->word);
            return false;
        }
        if (c->addr.ss_family != b->addr.ss_family) {
            set_err(err, errlen, "word %d (bind): an %s address, but the connect at word %d is %s",
                    b->word, family_name(b), c->word, family_name(c));
            return false;
        }
    }
    return true;
}

nf_peer_script *nf_peer_parse(int argc, const char *const *argv, char *err, size_t errlen) {
    if (argc < 0) argc = 0;
    // Every step takes at least one argv entry: argc steps always suffice.
    nf_peer_script *s = calloc(1, sizeof *s + (size_t)argc * sizeof(struct step));
    if (s == NULL) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    for (int i = 0; i < argc;) {
        struct step *st = &s->steps[s->nsteps];
        if (!parse_word(argc, argv, &i, st, err, errlen)) goto fail;
        s->nsteps++;
        if (st->op == OP_WRITE) {
            size_t chunk = (size_t)((st->n[0] + st->n[1] - 1) / st->n[1]);
            if (chunk > s->max_chunk) s->max_chunk = chunk;
        }
        if (st->op == OP_SENDTO && (size_t)st->n[1] > s->max_chunk) s->max_chunk = (size_t)st->n[1];
    }
    if (!match_repeats(s, err, errlen)) goto fail;
    if (!check_sockets(s, err, errlen)) goto fail;
    if (!check_binds(s, err, errlen)) goto fail;
    return s;
fail:
    free(s);
    return NULL;
}

void nf_peer_free(nf_peer_script *script) {
    free(script);
}

// MARK: - Running (child side: no malloc, no stdio streams)

static int64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// Remembered options, one per kind, applied in this order to the next socket.
enum { PEND_RCVBUF, PEND_USER_TIMEOUT, PEND_NODELAY, PEND_KEEPALIVE, PEND_LINGER0, PEND_BIND, NPEND };

struct run {
    int64_t t0;
    int conn, lsn;                      // -1: none
    int udp;                            // the current datagram socket, -1: none
    const struct step *pending[NPEND];
    char *wbuf;                         // max_chunk bytes of 'x'
};

// Reads land here; nothing looks at the bytes.
static char rbuf[65536];

// One event line, sent with one write(2) so lines from several peers sharing
// a pipe never interleave (each is far below PIPE_BUF).
struct ev {
    char buf[512];
    size_t len;
};

__attribute__((format(printf, 2, 3)))
static void ev_add(struct ev *e, const char *fmt, ...) {
    if (e->len >= sizeof e->buf) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->buf + e->len, sizeof e->buf - e->len, fmt, ap);
    va_end(ap);
    if (n > 0) e->len += (size_t)n;
    if (e->len > sizeof e->buf - 1) e->len = sizeof e->buf - 1;
}

static void ev_begin(struct ev *e, const struct run *r, const char *call, int64_t result) {
    int64_t d = monotonic_ns() - r->t0;
    const char *sign = d < 0 ? "-" : "";
    if (d < 0) d = -d;
    e->len = 0;
    // Integer arithmetic: exact microseconds, no floating point in the child.
    ev_add(e, "{\"t\":%s%lld.%06lld,\"call\":\"%s\",\"result\":%lld", sign,
           (long long)(d / 1000000000), (long long)(d % 1000000000 / 1000), call, (long long)result);
}

static void ev_errno(struct ev *e, int err) {
    const char *name = strerrorname_np(err);
    if (name) ev_add(e, ",\"errno\":\"%s\"", name);
    else ev_add(e, ",\"errno\":\"E%d\"", err);
}

static void ev_endpoint(struct ev *e, const char *key, const struct sockaddr_storage *ss) {
    char host[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        ev_add(e, ",\"%s\":\"%s:%u\"", key, host, ntohs(a->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        ev_add(e, ",\"%s\":\"[%s]:%u\"", key, host, ntohs(a->sin6_port));
    }
}

static void ev_local(struct ev *e, int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) ev_endpoint(e, "local", &ss);
}

static void ev_remote(struct ev *e, int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) ev_endpoint(e, "remote", &ss);
}

static void ev_send(struct ev *e) {
    e->buf[e->len++] = '}';
    e->buf[e->len++] = '\n';
    ssize_t n;
    do { n = write(STDOUT_FILENO, e->buf, e->len); } while (n < 0 && errno == EINTR);
}

static void emit(const struct run *r, const char *call, int64_t result) {
    struct ev e;
    ev_begin(&e, r, call, result);
    ev_send(&e);
}

// A successful call's event with the socket's local address, and with its peer's
// address when `connected`.
static void emit_endpoints(const struct run *r, const char *call, int fd, bool connected) {
    struct ev e;
    ev_begin(&e, r, call, 0);
    ev_local(&e, fd);
    if (connected) ev_remote(&e, fd);
    ev_send(&e);
}

static _Noreturn void finish(const struct run *r, int status) {
    emit(r, "exit", status);
    _exit(status);
}

static _Noreturn void fail(const struct run *r, const char *call, int err) {
    struct ev e;
    ev_begin(&e, r, call, -1);
    ev_errno(&e, err);
    ev_send(&e);
    finish(r, 1);
}

// Absolute deadline on CLOCK_MONOTONIC, so EINTR cannot stretch the sleep.
static void sleep_until(int64_t deadline_ns) {
    struct timespec ts = {deadline_ns / 1000000000, deadline_ns % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

static void sleep_ms(int64_t ms) {
    if (ms > 0) sleep_until(monotonic_ns() + ms * 1000000);
}

// MARK: - Socket options

static int set_int(int fd, int level, int name, int value) {
    return setsockopt(fd, level, name, &value, sizeof value);
}

// Applies one option word to fd and prints its event; exits on failure.
static void apply_option(const struct run *r, int fd, const struct step *st) {
    const char *name = def_of(st->op)->name;
    int rc = -1;
    switch (st->op) {
    case OP_NODELAY: rc = set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1); break;
    case OP_KEEPALIVE:
        rc = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
        if (rc == 0) rc = set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, (int)st->n[0]);
        if (rc == 0) rc = set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, (int)st->n[1]);
        if (rc == 0) rc = set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, (int)st->n[2]);
        break;
    case OP_LINGER0: {
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        rc = setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        break;
    }
    case OP_RCVBUF: rc = set_int(fd, SOL_SOCKET, SO_RCVBUF, (int)st->n[0]); break;
    case OP_USER_TIMEOUT: rc = set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, (int)st->n[0]); break;
    case OP_BIND: rc = bind(fd, (const struct sockaddr *)&st->addr, st->addrlen); break;
    default: break;
    }
    if (rc != 0) fail(r, name, errno);
    struct ev e;
    ev_begin(&e, r, name, 0);
    if (st->op == OP_BIND) ev_local(&e, fd);  // shows the port chosen for PORT 0
    ev_send(&e);
}

static int pend_kind(enum op op) {
    switch (op) {
    case OP_RCVBUF: return PEND_RCVBUF;
    case OP_USER_TIMEOUT: return PEND_USER_TIMEOUT;
    case OP_NODELAY: return PEND_NODELAY;
    case OP_KEEPALIVE: return PEND_KEEPALIVE;
    case OP_LINGER0: return PEND_LINGER0;
    default: return PEND_BIND;
    }
}

// Gives a new socket the options remembered for it; bind only for connect.
static void apply_pending(struct run *r, int fd, bool with_bind) {
    for (int k = 0; k < NPEND; k++) {
        if (r->pending[k] == NULL || (k == PEND_BIND && !with_bind)) continue;
        const struct step *st = r->pending[k];
        r->pending[k] = NULL;
        apply_option(r, fd, st);
    }
}

static void do_option(struct run *r, const struct step *st) {
    if (st->op != OP_BIND && r->conn >= 0) apply_option(r, r->conn, st);
    else r->pending[pend_kind(st->op)] = st;
}

// MARK: - Steps

static void do_listen(struct run *r, const struct step *st) {
    int fd = socket(st->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(r, "listen", errno);
    if (set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0) fail(r, "listen", errno);
    apply_pending(r, fd, false);
    if (bind(fd, (const struct sockaddr *)&st->addr, st->addrlen) != 0) fail(r, "listen", errno);
    if (listen(fd, (int)st->n[1]) != 0) fail(r, "listen", errno);
    r->lsn = fd;
    emit_endpoints(r, "listen", fd, false);
}

static void do_accept(struct run *r) {
    if (r->lsn < 0) fail(r, "accept", ENOTCONN);
    int fd;
    do { fd = accept4(r->lsn, NULL, NULL, SOCK_CLOEXEC); } while (fd < 0 && errno == EINTR);
    if (fd < 0) fail(r, "accept", errno);
    r->conn = fd;
    emit_endpoints(r, "accept", fd, true);
    apply_pending(r, fd, false);
}

// Waits for an in-progress connect; deadline_ns 0 waits for ever.
// Returns 0 or an errno value.
static int wait_connected(int fd, int64_t deadline_ns) {
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    for (;;) {
        struct timespec ts, *tsp = NULL;
        if (deadline_ns) {
            int64_t left = deadline_ns - monotonic_ns();
            if (left <= 0) return ETIMEDOUT;
            ts = (struct timespec){left / 1000000000, left % 1000000000};
            tsp = &ts;
        }
        int n = ppoll(&p, 1, tsp, NULL);
        if (n < 0 && errno != EINTR) return errno;
        if (n > 0) break;
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) return errno;
    return soerr;
}

// connect(), bounded by timeout_ms when it is not 0. Returns 0 or an errno value.
static int connect_bounded(int fd, const struct step *st, int64_t timeout_ms) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return errno;
    // Non-blocking only while connecting: later reads and writes block.
    if (timeout_ms && fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return errno;
    int64_t deadline = timeout_ms ? monotonic_ns() + timeout_ms * 1000000 : 0;
    int err = 0;
    if (connect(fd, (const struct sockaddr *)&st->addr, st->addrlen) != 0) {
        err = errno;
        // EINTR: the kernel goes on connecting in the background, as with EINPROGRESS.
        if (err == EINPROGRESS || err == EINTR) err = wait_connected(fd, deadline);
    }
    if (err) return err;
    if (timeout_ms && fcntl(fd, F_SETFL, flags) != 0) return errno;
    return 0;
}

static void do_connect(struct run *r, const struct step *st) {
    int fd = socket(st->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(r, "connect", errno);
    apply_pending(r, fd, true);
    int err = connect_bounded(fd, st, st->n[1]);
    if (err) fail(r, "connect", err);
    r->conn = fd;
    emit_endpoints(r, "connect", fd, true);
}

static void do_write(const struct run *r, const struct step *st) {
    if (r->conn < 0) fail(r, "write", ENOTCONN);
    int64_t total = st->n[0], count = st->n[1];
    for (int64_t i = 0; i < count; i++) {
        // Spread the remainder over the first writes: sizes differ by at most 1.
        size_t chunk = (size_t)(total / count + (i < total % count ? 1 : 0));
        ssize_t n;
        do { n = write(r->conn, r->wbuf, chunk); } while (n < 0 && errno == EINTR);
        if (n < 0) fail(r, "write", errno);
        emit(r, "write", n);
        if (i + 1 < count) sleep_ms(st->n[2]);
    }
}

// Reads until `want` bytes arrived (want < 0: no limit) or EOF.
static void do_read(const struct run *r, int64_t want) {
    if (r->conn < 0) fail(r, "read", ENOTCONN);
    int64_t got = 0;
    bool eof = false;
    while (want < 0 || got < want) {
        size_t ask = sizeof rbuf;
        if (want >= 0 && (uint64_t)(want - got) < ask) ask = (size_t)(want - got);
        ssize_t n = read(r->conn, rbuf, ask);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(r, "read", errno);
        if (n == 0) {
            eof = true;
            break;
        }
        got += n;
    }
    struct ev e;
    ev_begin(&e, r, "read", got);
    ev_add(&e, ",\"eof\":%s", eof ? "true" : "false");
    ev_send(&e);
}

static void do_shutdown(const struct run *r) {
    if (r->conn < 0) fail(r, "shutdown", ENOTCONN);
    if (shutdown(r->conn, SHUT_WR) != 0) fail(r, "shutdown", errno);
    emit(r, "shutdown", 0);
}

static void do_close(const struct run *r, int *fd, const char *call) {
    if (*fd < 0) fail(r, call, ENOTCONN);
    int rc = close(*fd);
    *fd = -1;  // gone even when close reports an error
    if (rc != 0) fail(r, call, errno);
    emit(r, call, 0);
}

static void do_udp_bind(struct run *r, const struct step *st) {
    int fd = socket(st->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(r, "udp-bind", errno);
    apply_pending(r, fd, false);  // rcvbuf, typically
    if (bind(fd, (const struct sockaddr *)&st->addr, st->addrlen) != 0) fail(r, "udp-bind", errno);
    r->udp = fd;
    emit_endpoints(r, "udp-bind", fd, false);
}

static void do_sendto(struct run *r, const struct step *st) {
    if (r->udp < 0) {
        r->udp = socket(st->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (r->udp < 0) fail(r, "sendto", errno);
    }
    ssize_t n;
    do {
        n = sendto(r->udp, r->wbuf, (size_t)st->n[1], 0, (const struct sockaddr *)&st->addr, st->addrlen);
    } while (n < 0 && errno == EINTR);
    if (n < 0) fail(r, "sendto", errno);
    emit(r, "sendto", n);
}

// One datagram; its real length even when longer than rbuf (MSG_TRUNC). A timeout is
// an observation (none came), not a failure of the script.
static void do_recvfrom(const struct run *r, int64_t timeout_ms) {
    if (r->udp < 0) fail(r, "recvfrom", ENOTCONN);
    int64_t deadline = monotonic_ns() + timeout_ms * 1000000;
    for (;;) {
        ssize_t n = recv(r->udp, rbuf, sizeof rbuf, MSG_TRUNC | MSG_DONTWAIT);
        if (n >= 0) {
            emit(r, "recvfrom", n);
            return;
        }
        if (errno != EAGAIN && errno != EINTR) fail(r, "recvfrom", errno);
        int64_t left = deadline - monotonic_ns();
        if (left <= 0) break;
        struct pollfd p = {.fd = r->udp, .events = POLLIN};
        poll(&p, 1, (int)((left + 999999) / 1000000));
    }
    struct ev e;
    ev_begin(&e, r, "recvfrom", -1);
    ev_errno(&e, EAGAIN);
    ev_send(&e);
}

static _Noreturn void do_hold(const struct run *r) {
    emit(r, "hold", 0);
    for (;;) pause();
}

static void run_step(struct run *r, const struct step *st) {
    switch (st->op) {
    case OP_LISTEN: do_listen(r, st); break;
    case OP_ACCEPT: do_accept(r); break;
    case OP_CONNECT: do_connect(r, st); break;
    case OP_BIND:
    case OP_NODELAY:
    case OP_KEEPALIVE:
    case OP_LINGER0:
    case OP_RCVBUF:
    case OP_USER_TIMEOUT: do_option(r, st); break;
    case OP_WRITE: do_write(r, st); break;
    case OP_READ: do_read(r, st->n[0]); break;
    case OP_READ_EOF: do_read(r, -1); break;
    case OP_SLEEP: sleep_ms(st->n[0]); break;
    case OP_SHUTDOWN_WR: do_shutdown(r); break;
    case OP_CLOSE: do_close(r, &r->conn, "close"); break;
    case OP_CLOSE_LISTENER: do_close(r, &r->lsn, "close-listener"); break;
    case OP_HOLD: do_hold(r);
    case OP_EXIT: finish(r, (int)st->n[0]);
    case OP_UDP_BIND: do_udp_bind(r, st); break;
    case OP_SENDTO: do_sendto(r, st); break;
    case OP_RECVFROM: do_recvfrom(r, st->n[0]); break;
    case OP_REPEAT:
    case OP_END: break;  // handled by the interpreter loop
    }
}

_Noreturn void nf_peer_run(const nf_peer_script *script, int64_t t0_ns) {
    struct run r = {.t0 = t0_ns, .conn = -1, .lsn = -1, .udp = -1};
    // A write to a reset connection must report EPIPE, not kill the peer.
    struct sigaction sa = {.sa_handler = SIG_IGN};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
    // Map and fill the write buffer before "start" so it costs no time mid-script.
    if (script->max_chunk > 0) {
        void *p = mmap(NULL, script->max_chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) fail(&r, "start", errno);
        memset(p, 'x', script->max_chunk);
        r.wbuf = p;
    }
    struct ev e;
    ev_begin(&e, &r, "start", 0);
    ev_add(&e, ",\"pid\":%d", (int)getpid());
    ev_send(&e);

    int64_t left[MAX_DEPTH];  // iterations still to run, per open repeat
    int depth = 0;
    for (size_t pc = 0; pc < script->nsteps;) {
        const struct step *st = &script->steps[pc];
        if (st->op == OP_REPEAT) {
            left[depth++] = st->n[0];
            pc++;
        } else if (st->op == OP_END) {
            if (--left[depth - 1] > 0) {
                pc = st->match + 1;
            } else {
                depth--;
                pc++;
            }
        } else {
            run_step(&r, st);
            pc++;
        }
    }
    finish(&r, 0);
}

int nf_peer_main(int argc, const char *const *argv) {
    char err[512];
    nf_peer_script *s = nf_peer_parse(argc, argv, err, sizeof err);
    if (s == NULL) {
        fprintf(stderr, "netfault peer: %s\n", err);
        return 2;
    }
    // Events bypass stdio; flush what the caller may have buffered before _exit.
    fflush(NULL);
    nf_peer_run(s, monotonic_ns());
}
