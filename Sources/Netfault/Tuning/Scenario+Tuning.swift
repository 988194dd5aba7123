extension Scenario {
    /// This scenario with sysctls set from outside it, for one run. Precedence, lowest
    /// first: `hostSysctls` (this machine's values, on every host), the scenario's own
    /// `Sysctl`s, then `overrides` in the order given (a later one wins; host `*` is every
    /// host). Each sysctl is written once, with the value that wins; the result's `sysctls`
    /// list them with their source. The copy is validated and probed like the scenario's
    /// own: an unknown host or name, or a value the kernel rejects, is an error at the
    /// override's location (the option as given on the command line).
    public func tuned(overrides: [SysctlOverride] = [], hostSysctls: [HostSysctl] = []) -> Scenario {
        guard !overrides.isEmpty || !hostSysctls.isEmpty else { return self }
        let hostNames = hosts.map(\.name)
        var chosen: [Sysctl] = []
        func set(_ sysctl: Sysctl) {
            chosen.removeAll { $0.host == sysctl.host && $0.name == sysctl.name }
            chosen.append(sysctl)  // written after what it replaces: the write order is the precedence
        }
        let hostLocation = SourceLocation.commandLine("--host-sysctls")
        for host in hostNames {
            for sysctl in hostSysctls {
                set(Sysctl(host: host, name: sysctl.name, value: sysctl.value, location: hostLocation, source: .host))
            }
        }
        for sysctl in sysctls { set(sysctl) }
        for override in overrides {
            for host in override.host == SysctlOverride.everyHost ? hostNames : [override.host] {
                set(Sysctl(host: host, name: override.name, value: override.value, location: override.location, source: .override))
            }
        }
        let others = elements.filter { if case .sysctl = $0 { false } else { true } }
        return Scenario(self, elements: others + chosen.map(ScenarioElement.sysctl))
    }

    /// The sysctls a run writes, in order, with their source.
    public var appliedSysctls: [AppliedSysctl] {
        sysctls.map { AppliedSysctl(host: $0.host, name: $0.name, value: $0.value, source: $0.source) }
    }
}
