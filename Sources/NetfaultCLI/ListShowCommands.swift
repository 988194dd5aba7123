import ArgumentParser
import Foundation
import Netfault

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the scenario catalog.")

    @Flag(help: "Print the catalog as JSON: {schemaVersion, netfaultVersion, scenarios: [{id, name, summary, claim, location}]} (docs/schemas/list.schema.json).")
    var json = false

    func run() throws {
        if json {
            let listing = CatalogListing(scenarios: CommandCatalog.scenarios.map { CatalogEntry($0) })
            print(String(decoding: try ResultDocument(.list, listing).json(), as: UTF8.self))
        } else {
            // As wide as the longest ID (padding(toLength:) would cut longer ones).
            let width = CommandCatalog.scenarios.map(\.id.count).max() ?? 0
            for scenario in CommandCatalog.scenarios {
                print(scenario.id + String(repeating: " ", count: max(5, width) - scenario.id.count + 1) + scenario.name)
            }
        }
    }
}

/// What `list --json` writes (with its versions): the catalog, in its order.
struct CatalogListing: Codable {
    let scenarios: [CatalogEntry]
}

/// One scenario of the catalog, as `list --json` describes it.
struct CatalogEntry: Codable {
    let id: String
    let name: String
    let summary: String
    let claim: String?
    let location: String

    init(_ scenario: Scenario) {
        id = scenario.id
        name = scenario.name
        summary = scenario.summary
        claim = scenario.claim
        location = scenario.location.description
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Describe one scenario.")

    @Argument(help: "A scenario ID, e.g. H1.")
    var id: String

    func run() throws {
        let scenario = try Selection.scenarios([id], all: false)[0]
        print("\(scenario.id)  \(scenario.name)")
        print("  \(scenario.location)")
        if !scenario.summary.isEmpty { print("\n\(scenario.summary)") }
        if let claim = scenario.claim { print("\nThe source note claims: \(claim)") }
        print("\nHosts: " + scenario.hosts.map { $0.forwarding ? "\($0.name) (router)" : $0.name }.joined(separator: ", "))
        for link in scenario.links {
            let subnets = [link.subnet, link.ipv6Subnet].compactMap { $0 }.joined(separator: ", ")
            print("Link:  \(link.a) — \(link.b)  \(subnets)\(link.mtu.map { "  mtu \($0)" } ?? "")")
        }
        for sysctl in scenario.sysctls { print("Sysctl on \(sysctl.host): \(sysctl.name) = \(sysctl.value)") }
        for fault in scenario.faults { print("Fault: \"\(fault.name)\"  \(fault.location)") }
        for impairment in scenario.impairments { print("Impairment: \(impairment.description)  \(impairment.location)") }
        print("\nExpectations:")
        for expectation in scenario.expectations { print("  \(expectation.location): \(expectation.kind)") }
    }
}

/// Turns IDs into scenarios; an unknown ID is a usage error naming it.
enum Selection {
    static func scenarios(_ ids: [String], all: Bool) throws -> [Scenario] {
        if all { return CommandCatalog.scenarios }
        guard !ids.isEmpty else {
            throw ValidationError("name scenario IDs or --all (see `netfault list`)")
        }
        return try ids.map { id in
            guard let scenario = CommandCatalog.scenario(id: id) else {
                throw ValidationError("unknown scenario ID \"\(id)\" (see `netfault list`)")
            }
            return scenario
        }
    }
}
