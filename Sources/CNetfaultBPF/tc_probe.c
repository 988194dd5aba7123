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

// Walks the kernel's program or map ids (bpf_prog_get_next_id / bpf_map_get_next_id) and
// reports each one's name; a program or map that goes between two calls is skipped.
int nf_bpf_list_objects(int maps, void (*each)(void *context, uint32_t id, const char *name), void *context) {
    uint32_t id = 0;
    int count = 0;
    for (;;) {
        int result = maps ? bpf_map_get_next_id(id, &id) : bpf_prog_get_next_id(id, &id);
        if (result) return errno == ENOENT ? count : -errno;
        int fd = maps ? bpf_map_get_fd_by_id(id) : bpf_prog_get_fd_by_id(id);
        if (fd < 0) continue;
        char name[32] = {0};
        if (maps) {
            struct bpf_map_info info;
            uint32_t length = sizeof(info);
            memset(&info, 0, sizeof(info));
            if (bpf_obj_get_info_by_fd(fd, &info, &length) == 0) memcpy(name, info.name, sizeof(info.name));
        } else {
            struct bpf_prog_info info;
            uint32_t length = sizeof(info);
            memset(&info, 0, sizeof(info));
            if (bpf_obj_get_info_by_fd(fd, &info, &length) == 0) memcpy(name, info.name, sizeof(info.name));
        }
        close(fd);
        name[sizeof(name) - 1] = 0;
        each(context, id, name);
        count++;
    }
}
