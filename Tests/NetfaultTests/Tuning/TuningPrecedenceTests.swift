import Testing
@testable import Netfault

@Suite("Scenario.tuned: host sysctls < the scenario's own < overrides")
struct TuningPrecedenceTests {
    let scenario = Scenario("T", "tuned") {
        Host("client")
        Host("server")
        Host("router", forwarding: true)
        Link("client", "router", subnet: "10.77.200.0/24")
        Link("router", "server", subnet: "10.77.201.0/24")
        Sysctl("client", "net.ipv4.tcp_syn_retries", 3)
        Peer("client", on: "client", .connect(to: "server", port: 9))
        Expect.exitStatus(of: "client", is: 1)
    }

    func sysctls(_ scenario: Scenario) -> [String] {
        scenario.appliedSysctls.map { "\($0.host):\($0.name)=\($0.value) (\($0.source.rawValue))" }
    }

    @Test("no tuning leaves the scenario as written")
    func untouched() {
        #expect(sysctls(scenario.tuned()) == ["client:net.ipv4.tcp_syn_retries=3 (scenario)"])
        #expect(scenario.tuned().elements.count == scenario.elements.count)
    }

    @Test("each sysctl is written once, with the value that wins, after what it replaced")
    func precedence() {
        let tuned = scenario.tuned(
            overrides: [SysctlOverride("*", "net.ipv4.tcp_fin_timeout", 7),
                        SysctlOverride("server", "net.ipv4.tcp_fin_timeout", 9),
                        SysctlOverride("client", "net.ipv4.tcp_keepalive_time", 60)],
            hostSysctls: [HostSysctl(name: "net.ipv4.tcp_syn_retries", value: "5"),
                          HostSysctl(name: "net.ipv4.tcp_fin_timeout", value: "30"),
                          HostSysctl(name: "net.core.somaxconn", value: "1024")])
        #expect(sysctls(tuned) == [
            "client:net.core.somaxconn=1024 (host)",
            "server:net.ipv4.tcp_syn_retries=5 (host)",
            "server:net.core.somaxconn=1024 (host)",
            "router:net.ipv4.tcp_syn_retries=5 (host)",
            "router:net.core.somaxconn=1024 (host)",
            "client:net.ipv4.tcp_syn_retries=3 (scenario)",
            "client:net.ipv4.tcp_fin_timeout=7 (override)",
            "router:net.ipv4.tcp_fin_timeout=7 (override)",
            "server:net.ipv4.tcp_fin_timeout=9 (override)",
            "client:net.ipv4.tcp_keepalive_time=60 (override)",
        ])
        // Everything else is kept, in order.
        #expect(tuned.hosts.map(\.name) == ["client", "server", "router"])
        #expect(tuned.steps.count == scenario.steps.count && tuned.expectations.count == 1)
        #expect(tuned.id == "T" && tuned.location == scenario.location)
    }

    @Test("an override beats the scenario's own Sysctl, and the plan writes the winner last")
    func overrideBeatsScenario() {
        let tuned = scenario.tuned(overrides: [SysctlOverride("client", "net.ipv4.tcp_syn_retries", 1)])
        #expect(sysctls(tuned) == ["client:net.ipv4.tcp_syn_retries=1 (override)"])
        let plan = NetworkPlan(tuned)
        #expect(plan.host("client")!.sysctls.map { "\($0.name)=\($0.value)" } == ["net.ipv4.tcp_syn_retries=1"])
        // The router's forwarding still comes from the plan, under the tuning.
        #expect(plan.host("router")!.sysctls.map(\.name) == ["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"])
    }

    @Test("an override is validated like the scenario's own, at the option as given")
    func validatedAtTheOption() {
        let tuned = scenario.tuned(overrides: [
            SysctlAssignment(host: "nohost", name: "net.ipv4.tcp_syn_retries", values: ["2"]).overrides[0],
            SysctlAssignment(host: "client", name: "kernel.panic", values: ["1"]).overrides[0],
        ])
        #expect(ScenarioValidator.validate(tuned).map(\.description) == [
            "--sysctl nohost:net.ipv4.tcp_syn_retries=2: sysctl names unknown host \"nohost\"",
            "--sysctl client:kernel.panic=1: \"kernel.panic\" is not a per-namespace net.ipv4.*, net.ipv6.* or net.core.* sysctl",
        ])
    }
}

@Suite("--host-sysctls: which of this machine's sysctls are copied")
struct HostSysctlsTests {
    @Test("only what differs, whitespace aside; unreadable (empty) values are no value")
    func differences() {
        let found = HostSysctls.differences(
            mine: ["net.ipv4.tcp_syn_retries": "2", "net.ipv4.tcp_rmem": "4096\t131072\t6291456",
                   "net.core.somaxconn": "4096", "net.ipv6.conf.all.stable_secret": "", "net.ipv4.only_mine": "1"],
            fresh: ["net.ipv4.tcp_syn_retries": "6", "net.ipv4.tcp_rmem": "4096 131072 6291456",
                    "net.core.somaxconn": "4096", "net.ipv6.conf.all.stable_secret": "", "net.ipv4.tcp_fin_timeout": "60"])
        #expect(found == [HostSysctl(name: "net.ipv4.tcp_syn_retries", value: "2")])
    }

    @Test("the families a scenario may set, never keys")
    func considered() {
        #expect(HostSysctls.considered("net.ipv4.tcp_syn_retries"))
        #expect(HostSysctls.considered("net.core.somaxconn"))
        #expect(HostSysctls.considered("net.ipv6.conf.all.accept_ra"))
        #expect(!HostSysctls.considered("net.ipv4.tcp_fastopen_key"))
        #expect(!HostSysctls.considered("net.ipv6.conf.default.stable_secret"))
        #expect(!HostSysctls.considered("net.mptcp.enabled"))
        #expect(!HostSysctls.considered("kernel.panic"))
    }
}
