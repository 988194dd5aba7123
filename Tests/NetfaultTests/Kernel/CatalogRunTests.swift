import Foundation
import Testing
import Netfault
import NetfaultScenarios

/// The whole catalog, run for real the way `netfault run --all` runs it.
@Suite("The catalog on this kernel", .enabled(if: RootOnly.isRoot, RootOnly.reason))
struct CatalogRunTests {
    @Test("every scenario passes (or is skipped with a reason), and the host is left as it was")
    func catalogPasses() throws {
        let before = try RootOnly.hostSnapshot()
        for scenario in Catalog.all { try ScenarioRunner.check(scenario) }
        // Six at a time: C7's 61 s still bounds the wall time, and two CPUs are not
        // loaded so hard that engine and sampler threads lag by tens of milliseconds.
        let result = CatalogRunner.run(Catalog.all, parallel: 6)
        #expect(result.scenarios.count == Catalog.all.count)
        for scenario in result.scenarios {
            let failures = scenario.expectations.filter { !$0.passed }.map(\.failureMessage)
            #expect(scenario.status != .failed, "\(scenario.id): \(failures.joined(separator: "\n")) \(scenario.error ?? "")")
            if scenario.status == .skipped { #expect(scenario.skipReason?.isEmpty == false) }
            #expect(!scenario.expectations.isEmpty, "\(scenario.id) asserts something")
        }
        #expect(try RootOnly.hostSnapshot() == before)
    }
}
