// Pipe calls glibc declares only under _GNU_SOURCE, for reading children's output.
#define _GNU_SOURCE
#include "CNetfault.h"

#include <errno.h>
#include <fcntl.h>

int nf_set_pipe_size(int fd, int bytes) {
    int result = fcntl(fd, F_SETPIPE_SZ, bytes);
    return result < 0 ? -errno : result;
}

long nf_tee(int in, int out, unsigned long length) {
    ssize_t result = tee(in, out, length, 0);
    return result < 0 ? -errno : result;
}

long nf_splice(int in, int out, unsigned long length) {
    ssize_t result = splice(in, NULL, out, NULL, length, SPLICE_F_MOVE);
    return result < 0 ? -errno : result;
}
