// Swift decodes these kernel structs by byte offset (SockDiag.swift); these
// assertions fail the build if a header ever disagrees with those offsets.
#include "CNetfault.h"
#include <stddef.h>
#include <linux/tcp.h>

_Static_assert(sizeof(struct inet_diag_msg) == 72, "inet_diag_msg size");
_Static_assert(offsetof(struct inet_diag_msg, id) == 4, "inet_diag_msg.id");
_Static_assert(offsetof(struct inet_diag_msg, idiag_expires) == 52, "inet_diag_msg.idiag_expires");
_Static_assert(offsetof(struct inet_diag_msg, idiag_inode) == 68, "inet_diag_msg.idiag_inode");
_Static_assert(offsetof(struct inet_diag_sockid, idiag_src) == 4, "inet_diag_sockid.idiag_src");
_Static_assert(offsetof(struct inet_diag_sockid, idiag_dst) == 20, "inet_diag_sockid.idiag_dst");
_Static_assert(offsetof(struct inet_diag_sockid, idiag_cookie) == 40, "inet_diag_sockid.idiag_cookie");
_Static_assert(offsetof(struct tcp_info, tcpi_retransmits) == 2, "tcpi_retransmits");
_Static_assert(offsetof(struct tcp_info, tcpi_probes) == 3, "tcpi_probes");
_Static_assert(offsetof(struct tcp_info, tcpi_backoff) == 4, "tcpi_backoff");
_Static_assert(offsetof(struct tcp_info, tcpi_rto) == 8, "tcpi_rto");
_Static_assert(offsetof(struct tcp_info, tcpi_rtt) == 68, "tcpi_rtt");
_Static_assert(offsetof(struct tcp_info, tcpi_total_retrans) == 100, "tcpi_total_retrans");
_Static_assert(offsetof(struct tcp_info, tcpi_snd_mss) == 16, "tcpi_snd_mss");
_Static_assert(offsetof(struct tcp_info, tcpi_advmss) == 84, "tcpi_advmss");
