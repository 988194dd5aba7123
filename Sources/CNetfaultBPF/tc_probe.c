#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "CNetfaultBPF.h"

// The smallest tc classifier: `r0 = TC_ACT_UNSPEC (-1); exit`, which lets every packet
// go on. Written as raw instructions: the BPF_MOV64_IMM / BPF_EXIT_INSN macros live in
// the kernel's filter.h, not in the uapi headers.
int nf_bpf_load_pass_classifier(char *log, size_t log_size) {
    struct bpf_insn instructions[2];
    memset(instructions, 0, sizeof(instructions));
    instructions[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
    instructions[0].dst_reg = BPF_REG_0;
    instructions[0].imm = -1;
    instructions[1].code = BPF_JMP | BPF_EXIT;
    LIBBPF_OPTS(bpf_prog_load_opts, options, .log_buf = log, .log_size = (unsigned)log_size, .log_level = 0);
    if (log_size > 0) log[0] = 0;
    int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "nf_probe_pass", "GPL", instructions, 2, &options);
    return fd < 0 ? -errno : fd;
}
