// swift-tools-version:6.0
import PackageDescription

// netfault is this folder's parent. SwiftPM names a local package after its folder: "netfault"
// in a plain clone, but whatever a checkout's folder is called.
let netfault = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "netfault").lowercased()

let package = Package(
    name: "netfault-examples",
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        // Scenarios on real programs: curl, python3's http.server, nginx, socat.
        .target(name: "ExampleScenarios", dependencies: [.product(name: "Netfault", package: netfault)]),
        // `swift run examples run --all`
        .executableTarget(
            name: "examples",
            dependencies: ["ExampleScenarios", .product(name: "NetfaultCLI", package: netfault)]
        ),
        .testTarget(
            name: "ExampleTests",
            dependencies: ["ExampleScenarios", .product(name: "Netfault", package: netfault)]
        ),
    ],
    swiftLanguageModes: [.v6]
)
