#include "CNetfault.h"
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

int nf_cpuid_hypervisor(char out[13]) {
    memset(out, 0, 13);
#if defined(__x86_64__) || defined(__i386__)
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 31))) return 0;
    // Leaf 0x40000000 is reserved for hypervisors once the bit says one is there;
    // __get_cpuid would refuse it (it checks the basic leaf range), so __cpuid directly.
    __cpuid(0x40000000, eax, ebx, ecx, edx);
    memcpy(out, &ebx, 4);
    memcpy(out + 4, &ecx, 4);
    memcpy(out + 8, &edx, 4);
    return 1;
#else
    return 0;
#endif
}
