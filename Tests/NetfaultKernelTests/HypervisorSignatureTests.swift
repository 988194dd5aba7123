import Foundation
import Testing
import NetfaultKernel

/// CPUID's hypervisor signature, read through the C shim, against the kernel's own account of
/// the same bit (/proc/cpuinfo's `hypervisor` flag). Runs as any user.
@Suite struct HypervisorSignatureTests {
    @Test func theSignatureIsThereExactlyWhenTheKernelSeesAHypervisor() throws {
        #if arch(x86_64)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = try #require(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
        let hypervisor = flags.split(separator: " ").contains("hypervisor")
        let signature = MachineInfo.hypervisorSignature
        #expect((signature != nil) == hypervisor, "signature \(signature ?? "none"), flags \(flags)")
        if let signature {
            // Vendor signatures are printable ASCII ("KVMKVMKVM", "TCGTCGTCGTCG", "Microsoft Hv").
            #expect(!signature.isEmpty && signature.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }, "\(signature)")
        }
        #else
        #expect(MachineInfo.hypervisorSignature == nil, "the shim reads CPUID on x86 only")
        #endif
    }
}
