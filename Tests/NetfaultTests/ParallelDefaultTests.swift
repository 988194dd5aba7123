import Testing
@testable import Netfault

/// `--parallel`'s default: the command's usual number, one at a time under QEMU's emulation.
@Suite struct ParallelDefaultTests {
    @Test func anEmulatedCPURunsOneAtATimeAndSaysSo() {
        let choice = ParallelDefault.choose(requested: nil, usual: 4, hypervisor: "TCGTCGTCGTCG")
        #expect(choice.parallel == 1)
        #expect(choice.note == "the CPU is emulated (QEMU's TCG): running one at a time, since 4 at once miss their timers there (--parallel N overrides)")
    }

    @Test("hardware virtualization and bare metal keep the usual number", arguments: ["KVMKVMKVM", "Microsoft Hv", nil] as [String?])
    func notEmulated(hypervisor: String?) {
        #expect(ParallelDefault.choose(requested: nil, usual: 4, hypervisor: hypervisor) == .init(parallel: 4, note: nil))
        #expect(ParallelDefault.choose(requested: nil, usual: 11, hypervisor: hypervisor) == .init(parallel: 11, note: nil))
    }

    @Test func anExplicitNumberWinsSilently() {
        #expect(ParallelDefault.choose(requested: 4, usual: 4, hypervisor: "TCGTCGTCGTCG") == .init(parallel: 4, note: nil))
        #expect(ParallelDefault.choose(requested: 2, usual: 11, hypervisor: nil) == .init(parallel: 2, note: nil))
    }
}
