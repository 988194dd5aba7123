import NetfaultKernel
import NetfaultScenarios
import Testing
@testable import Netfault

@Suite struct CatalogTests {
    @Test func catalogIsNotEmpty() {
        #expect(Catalog.all.count >= 11)
        #expect(Catalog.all.map(\.id).starts(with: ["H1"]))
    }

    @Test(arguments: Catalog.all.map(\.id))
    func everyScenarioValidates(id: String) throws {
        let scenario = try #require(Catalog.scenario(id: id))
        let errors = ScenarioValidator.validate(scenario)
        #expect(errors == [], "\(InvalidScenario(scenarioID: id, errors: errors))")
    }

    @Test(arguments: Catalog.all.map(\.id))
    func everyScenarioHasASummaryAClaimAndALocation(id: String) throws {
        let scenario = try #require(Catalog.scenario(id: id))
        let claim = try #require(scenario.claim)
        let blank = [scenario.name, scenario.summary, claim].map { $0.allSatisfy(\.isWhitespace) }
        #expect(blank == [false, false, false], "name, summary and claim must not be blank")
        #expect(scenario.location.description.hasPrefix("Scenarios/"))
        #expect(!scenario.expectations.isEmpty, "a scenario with no expectation checks nothing")
    }

    @Test func idsAreUniqueIgnoringCase() {
        let ids = Catalog.all.map { $0.id.uppercased() }
        #expect(Set(ids).count == ids.count, "duplicate IDs in \(ids)")
    }

    @Test func lookupIsCaseInsensitive() {
        #expect(Catalog.scenario(id: "H1")?.id == "H1")
        #expect(Catalog.scenario(id: "h1")?.id == "H1")
        #expect(Catalog.scenario(id: "c12")?.id == "C12")
        #expect(Catalog.scenario(id: "k6")?.id == "K6")
        #expect(Catalog.scenario(id: "NOPE") == nil)
        #expect(Catalog.scenario(id: "") == nil)
        #expect(Catalog.scenario(id: "H") == nil)
        for scenario in Catalog.all {
            #expect(Catalog.scenario(id: scenario.id.lowercased())?.id == scenario.id)
        }
    }

    /// The catalog's wall time is its longest scenario's only if that one starts first. H2's
    /// limit is longer (room for a sweep up to tcp_syn_retries 8) though it runs 19 s, so C7,
    /// the longest run, comes second: with two slots or more it still starts at once.
    @Test func longestScenariosStartFirst() {
        let order = CatalogRunner.longestFirst(Catalog.all).map { Catalog.all[$0] }
        #expect(order.prefix(2).map(\.id) == ["H2", "C7"])
        #expect(zip(order, order.dropFirst()).allSatisfy { $0.timeLimit >= $1.timeLimit })
        #expect(Set(order.map(\.id)) == Set(Catalog.all.map(\.id)) && order.count == Catalog.all.count)
        // Equal limits keep the catalog's order.
        let sixties = order.filter { $0.timeLimit == 60 }.map(\.id)
        #expect(sixties == Catalog.all.filter { $0.timeLimit == 60 }.map(\.id))
    }

    /// Scenarios run in parallel in namespaces of their own, but their addresses still
    /// must not meet: no subnet of one scenario overlaps a subnet of another.
    @Test func subnetsOfDifferentScenariosDoNotOverlap() {
        var subnets: [(id: String, cidr: CIDR)] = []
        for scenario in Catalog.all {
            for link in scenario.links {
                for text in [link.subnet, link.ipv6Subnet].compactMap({ $0 }) {
                    guard let cidr = CIDR(text) else {
                        Issue.record("\(scenario.id): \(text) is not CIDR")
                        continue
                    }
                    subnets.append((scenario.id, cidr))
                }
            }
        }
        #expect(subnets.count >= Catalog.all.count)
        for (i, first) in subnets.enumerated() {
            for second in subnets[(i + 1)...] where first.id != second.id {
                #expect(!Self.overlap(first.cidr, second.cidr),
                        "\(first.id) \(first.cidr) overlaps \(second.id) \(second.cidr)")
            }
        }
    }

    @Test func overlapHelper() {
        #expect(Self.overlap(CIDR("10.77.1.0/24")!, CIDR("10.77.1.128/25")!))
        #expect(Self.overlap(CIDR("10.77.0.0/16")!, CIDR("10.77.9.0/24")!))
        #expect(!Self.overlap(CIDR("10.77.1.0/24")!, CIDR("10.77.2.0/24")!))
        #expect(!Self.overlap(CIDR("10.77.1.0/24")!, CIDR("fd77:1::/64")!))
    }

    static func overlap(_ a: CIDR, _ b: CIDR) -> Bool {
        guard a.address.isIPv6 == b.address.isIPv6 else { return false }
        let shorter = min(a.prefixLength, b.prefixLength)
        return a.address.network(prefixLength: shorter) == b.address.network(prefixLength: shorter)
    }
}
