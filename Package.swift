// swift-tools-version: 6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "brownout",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "brownout", targets: ["brownout"]),
        .executable(name: "brownout-twin", targets: ["brownout-twin"]),
        .executable(name: "brownout-bench", targets: ["BrownoutBench"]),
        .executable(name: "brownout-spec-fuzz", targets: ["brownout-spec-fuzz"]),
        .executable(name: "brownout-mock-provider", targets: ["brownout-mock-provider"]),
        .executable(name: "brownout-gateway", targets: ["brownout-gateway"]),
        .executable(name: "brownout-bench-proxy-floor", targets: ["brownout-bench-proxy-floor"]),
        .library(name: "Stochastics", targets: ["Stochastics"]),
        .library(name: "SimulationKernel", targets: ["SimulationKernel"]),
        .library(name: "RoutingCore", targets: ["RoutingCore"]),
        .library(name: "GatewaySim", targets: ["GatewaySim"]),
        .library(name: "ConfigSchema", targets: ["ConfigSchema"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.4.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(
            name: "CGSL",
            pkgConfig: "gsl",
            providers: [.apt(["libgsl-dev"]), .brew(["gsl"])]
        ),
        .target(
            name: "Stochastics",
            dependencies: ["CGSL", "SimulationKernel"],
            swiftSettings: upcoming
        ),
        .target(
            name: "SimulationKernel",
            dependencies: [
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "RoutingCore",
            swiftSettings: upcoming
        ),
        // One request's conduct at a gateway, between the router's decisions: the state machine
        // both the server and the simulator drive (`docs/parity.md`).
        .target(
            name: "GatewayConduct",
            dependencies: ["RoutingCore"],
            swiftSettings: upcoming
        ),
        // The reader of server-sent events (text/event-stream) the gateway, the twin and the
        // tests share.
        .target(
            name: "ServerSentEvents",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: upcoming
        ),
        .target(
            name: "ConfigSchema",
            dependencies: ["RoutingCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: upcoming
        ),
        .target(
            name: "GatewaySim",
            dependencies: [
                "GatewayConduct", "RoutingCore", "SimulationKernel", "Stochastics",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "Experiments",
            dependencies: [
                "ConfigSchema", "GatewaySim", "RoutingCore", "SimulationKernel", "Stochastics",
            ],
            swiftSettings: upcoming
        ),
        // Child processes with their output in files and every wait bounded: the twin's
        // servers and the tests' executables.
        .target(
            name: "ChildProcesses",
            swiftSettings: upcoming
        ),
        // What the command-line executables share: the spec and --jobs options, errors, progress.
        .target(
            name: "CommandLineSupport",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: upcoming
        ),
        // The simulator's commands: no server stack (the twin is its own executable).
        .executableTarget(
            name: "brownout",
            dependencies: [
                "CommandLineSupport", "Experiments", "ConfigSchema", "GatewaySim", "RoutingCore", "Stochastics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "brownout-twin",
            dependencies: [
                "CommandLineSupport", "MockUpstream", "RoutingCore", "Twin",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: upcoming
        ),
        // The live twin: the spec's upstreams served in scaled real time, the load generator
        // for its teams, and the comparison with the simulator (`brownout twin`).
        .target(
            name: "Twin",
            dependencies: [
                "ChildProcesses", "Experiments", "GatewaySim", "MockUpstream", "RoutingCore", "ServerSentEvents", "SimulationKernel",
                "Stochastics",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: upcoming
        ),
        // A mock LLM upstream's server and its answers: the fault-injecting mock's, and the
        // twin's upstreams' (which answer by the simulator's models, in the Twin module).
        .target(
            name: "MockUpstream",
            dependencies: [
                "RoutingCore",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: upcoming
        ),
        // The fault-injecting mock: links no simulator.
        .executableTarget(
            name: "brownout-mock-provider",
            dependencies: [
                "MockUpstream", "RoutingCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "GatewayServer",
            dependencies: [
                "GatewayConduct", "RoutingCore", "ConfigSchema", "ServerSentEvents",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "brownout-gateway",
            dependencies: [
                "GatewayServer", "ConfigSchema",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        // The floor under the gateway's added latency (Benchmarks/gateway): Hummingbird and
        // AsyncHTTPClient forwarding a request, nothing else.
        .executableTarget(
            name: "brownout-bench-proxy-floor",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/ProxyFloor",
            swiftSettings: upcoming
        ),
        .target(name: "CLibFuzzer"),
        .executableTarget(
            name: "brownout-spec-fuzz",
            dependencies: ["Experiments", "CLibFuzzer"],
            swiftSettings: upcoming
        ),
        .target(name: "CAllocationCounter"),
        .executableTarget(
            name: "BrownoutBench",
            dependencies: [
                "CGSL",
                "Stochastics",
                "SimulationKernel",
                "RoutingCore",
                "GatewaySim",
                "Experiments",
                "CAllocationCounter",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/BrownoutBench",
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "StochasticsTests",
            dependencies: ["Stochastics"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "SimulationKernelTests",
            dependencies: ["SimulationKernel", "Stochastics"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "RoutingCoreTests",
            dependencies: ["RoutingCore"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ServerSentEventsTests",
            dependencies: ["RoutingCore", "ServerSentEvents", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "GatewayConductTests",
            dependencies: ["GatewayConduct", "RoutingCore"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ConfigSchemaTests",
            dependencies: ["ConfigSchema", "RoutingCore"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "ChildProcesses", "GatewayServer", "LiveGatewaySupport", "ProcessTestSupport", "RoutingCore", "ConfigSchema", "ServerSentEvents",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "GatewaySimTests",
            dependencies: ["GatewaySim", "RoutingCore", "SimulationKernel", "Stochastics"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ExperimentsTests",
            dependencies: ["ConfigSchema", "Experiments", "GatewaySim", "RoutingCore", "SimulationKernel", "Stochastics"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "TwinTests",
            dependencies: ["Twin", "GatewaySim", "MockUpstream", "RoutingCore", "Stochastics", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: upcoming
        ),
        // A gateway and its mock upstreams as real processes on loopback, for the tests that
        // drive them over HTTP.
        .target(
            name: "LiveGatewaySupport",
            dependencies: [
                "ChildProcesses", "ProcessTestSupport", "ServerSentEvents",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/LiveGatewaySupport",
            swiftSettings: upcoming
        ),
        // `brownout fit` on a live gateway's trace: the gateway's tests without the simulator
        // and GSL, the fit with them.
        .testTarget(
            name: "FitTests",
            dependencies: ["ChildProcesses", "LiveGatewaySupport", "ProcessTestSupport", "Experiments", "RoutingCore", "Stochastics"],
            swiftSettings: upcoming
        ),
        // Where the built executables are, for the tests that run them (as ChildProcesses).
        .target(
            name: "ProcessTestSupport",
            dependencies: ["ChildProcesses"],
            path: "Tests/ProcessTestSupport",
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "BrownoutCLITests",
            dependencies: ["ChildProcesses", "ProcessTestSupport"],
            swiftSettings: upcoming
        ),
    ],
    swiftLanguageModes: [.v6]
)
