import Foundation
import Testing
@testable import Netfault
import NetfaultKernel

/// Sysctl overrides and this machine's tuning, applied for real in namespaces of the test's own.
@Suite("Tuning on this kernel", .serialized, .enabled(if: RootOnly.isRoot, RootOnly.reason))
struct TuningRunTests {
    let scenario = Scenario("tuning", "tuning", timeLimit: 10) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.202.0/24")
        Sysctl("client", "net.ipv4.tcp_syn_retries", 3)
        Peer("client", on: "client", .connect(to: "server", port: 9))
        WaitFor(exitOf: "client", timeout: 2)
        Expect.peer("client", fails: "connect", with: "ECONNREFUSED")
    }

    @Test("an override is what the namespace holds, over the scenario's own, and the result says so")
    func overrideVisibleInTheNamespace() throws {
        let tuned = scenario.tuned(overrides: [SysctlOverride("client", "net.ipv4.tcp_syn_retries", 1),
                                               SysctlOverride("*", "net.ipv4.tcp_fin_timeout", 7)])
        try ScenarioRunner.check(tuned)
        var seen: [String] = []
        let result = ScenarioRunner.run(tuned) { network in
            for (host, name) in [("client", "net.ipv4.tcp_syn_retries"), ("client", "net.ipv4.tcp_fin_timeout"),
                                 ("server", "net.ipv4.tcp_fin_timeout"), ("server", "net.ipv4.tcp_syn_retries")] {
                let value = (try? SysctlAccess.read(name, in: network.namespace(host)!)) ?? "unreadable"
                seen.append("\(host):\(name)=\(value)")
            }
        }
        #expect(result.status == .passed, "\(result.failureSummary)")
        #expect(seen == ["client:net.ipv4.tcp_syn_retries=1", "client:net.ipv4.tcp_fin_timeout=7",
                                         "server:net.ipv4.tcp_fin_timeout=7", "server:net.ipv4.tcp_syn_retries=6"])
        #expect(result.sysctls == [
            AppliedSysctl(host: "client", name: "net.ipv4.tcp_syn_retries", value: "1", source: .override),
            AppliedSysctl(host: "client", name: "net.ipv4.tcp_fin_timeout", value: "7", source: .override),
            AppliedSysctl(host: "server", name: "net.ipv4.tcp_fin_timeout", value: "7", source: .override),
        ])
    }

    @Test("a value the kernel rejects is an error at the option, before anything is built")
    func rejectedValue() throws {
        let tuned = scenario.tuned(overrides: SysctlAssignment(host: "client", name: "net.ipv4.tcp_syn_retries", values: ["300"]).overrides)
        #expect {
            try ScenarioRunner.check(tuned)
        } throws: { error in
            (error as? InvalidScenario)?.errors.map(\.description)
                == ["--sysctl client:net.ipv4.tcp_syn_retries=300: the kernel rejects net.ipv4.tcp_syn_retries = 300: EINVAL"]
        }
    }

    @Test("host sysctls: what a reference namespace holds that a new one does not, keys left out")
    func hostSysctlsFromAReferenceNamespace() throws {
        let reference = try NetworkNamespace(name: "reference")
        try SysctlAccess.write("net.ipv4.tcp_syn_retries", "2", in: reference)
        try SysctlAccess.write("net.ipv4.tcp_rmem", "4096 65536 1048576", in: reference)
        try SysctlAccess.write("net.ipv4.tcp_fastopen_key", "00000001-00000002-00000003-00000004", in: reference)
        let found = try HostSysctls.read(from: reference)
        #expect(found == [HostSysctl(name: "net.ipv4.tcp_rmem", value: "4096\t65536\t1048576"),
                          HostSysctl(name: "net.ipv4.tcp_syn_retries", value: "2")])
    }

    @Test("host sysctls of this machine: read only, per-namespace ones only")
    func hostSysctlsOfThisMachine() throws {
        let before = try RootOnly.hostSnapshot()
        let found = try HostSysctls.read()
        #expect(try RootOnly.hostSnapshot() == before)
        for sysctl in found {
            #expect(HostSysctls.considered(sysctl.name))
            #expect(SysctlAccess.readRootNamespace(sysctl.name) == sysctl.value)
        }
    }
}
