/// The new package's Package.swift: a library of scenarios, an executable with netfault's
/// command line over them, and a test target running them with Swift Testing.
enum ManifestTemplate {
    static func text(name: String, netfault: PackageScaffold.NetfaultSource) -> String {
        let dependency = switch netfault {
        case .url(let url, let branch): #".package(url: "\#(url)", branch: "\#(branch)")"#
        case .path(let path): #".package(path: "\#(path)")"#
        }
        return #"""
            // swift-tools-version:6.0
            import PackageDescription

            // SwiftPM names a dependency after its URL's or folder's last component.
            let netfault = "\#(netfault.packageIdentity)"

            let package = Package(
                name: "\#(name)",
                dependencies: [
                    \#(dependency),
                ],
                targets: [
                    // Your scenarios, one file each.
                    .target(name: "Scenarios", dependencies: [.product(name: "Netfault", package: netfault)]),
                    // netfault's command line over them: `swift build && sudo .build/debug/\#(name) run --all`.
                    .executableTarget(
                        name: "\#(name)",
                        dependencies: ["Scenarios", .product(name: "NetfaultCLI", package: netfault)]
                    ),
                    // The same scenarios as Swift Testing tests: `sudo swift test`.
                    .testTarget(
                        name: "ScenarioTests",
                        dependencies: ["Scenarios", .product(name: "Netfault", package: netfault)]
                    ),
                ],
                swiftLanguageModes: [.v6]
            )

            """#
    }
}
