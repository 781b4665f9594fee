// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "Firebreak",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "firebreak", targets: ["firebreak"])
  ],
  targets: [
    // The hub: value types only, no I/O, no C.
    .target(name: "NetfilterModel"),
    // Text -> Model: lexer, parser, resolver, validator, canonical printer.
    .target(name: "PolicyLanguage", dependencies: ["NetfilterModel"]),
    // Model -> nft script text (the netlink half comes with native apply).
    .target(name: "NFTablesBackend", dependencies: ["NetfilterModel"]),
    // Model -> iptables-restore text.
    .target(name: "IPTablesBackend", dependencies: ["NetfilterModel"]),
    // iptables-save (and later nft) dumps -> Model, so existing firewalls can be simulated.
    .target(name: "RulesetImport", dependencies: ["NetfilterModel"]),
    // Packet -> verdict with a trace: hook traversal, rule evaluation, conntrack, NAT, topology.
    .target(name: "VerdictEngine", dependencies: ["NetfilterModel"]),
    // ClassBench-like rulesets and packets for the engine's benchmark and equivalence test.
    .target(name: "SyntheticRulesets", dependencies: ["NetfilterModel", "VerdictEngine"]),
    .executableTarget(
      name: "firebreak-bench", dependencies: ["SyntheticRulesets", "VerdictEngine", "NetfilterModel"],
      path: "Benchmarks/FirebreakBench"),
    .executableTarget(
      name: "firebreak-apply-bench",
      dependencies: [
        "SyntheticRulesets", "NFTablesNative", "NFTablesBackend", "IPTablesNative", "IPTablesBackend", "Topology",
        "NetfilterModel",
      ],
      path: "Benchmarks/ApplyBench"),
    .executableTarget(
      name: "firebreak-import-bench", dependencies: ["RulesetImport", "VerdictEngine", "NetfilterModel"],
      path: "Benchmarks/ImportBench"),
    // libnftnl and libmnl (netlink), the rtnetlink uapi and namespace syscalls.
    .systemLibrary(name: "CNftnl", pkgConfig: "libnftnl", providers: [.apt(["libnftnl-dev", "libmnl-dev"])]),
    // libiptc (legacy x_tables) for native iptables.
    .systemLibrary(name: "CIPTC", pkgConfig: "libiptc", providers: [.apt(["libiptc-dev"])]),
    // libnftables, nft's own library: nft text listings, and nft scripts as one transaction.
    .systemLibrary(name: "CNftables", pkgConfig: "libnftables", providers: [.apt(["libnftables-dev"])]),
    // Model -> one nftables netlink transaction (libnftnl + libmnl); raw snapshot and restore;
    // nft text through libnftables.
    .target(name: "NFTablesNative", dependencies: ["NetfilterModel", "NFTablesBackend", "CNftnl", "CNftables"]),
    // Compiled iptables rules -> libiptc entries committed per table; raw snapshot and restore.
    .target(name: "IPTablesNative", dependencies: ["NetfilterModel", "IPTablesBackend", "CIPTC"]),
    // Generations, plan (rule diff, changed flows, lockout guard), apply, confirm watchdog,
    // rollback, lock, drift.
    .target(
      name: "Deployment",
      dependencies: [
        "NetfilterModel", "PolicyLanguage", "VerdictEngine", "NFTablesBackend", "NFTablesNative", "IPTablesBackend",
        "IPTablesNative", "Topology",
      ]),
    // Namespaces, veth pairs, bridges, addresses, routes and sysctls over rtnetlink.
    .target(name: "Topology", dependencies: ["NetfilterModel", "CNftnl"]),
    // Proof on the kernel: topology up in scratch namespaces, firewalls applied, real probes.
    .target(
      name: "Verification",
      dependencies: ["NetfilterModel", "Topology", "VerdictEngine", "NFTablesBackend", "IPTablesBackend", "CNftnl"]),
    // The command line as a library, so argument parsing and commands are testable in-process.
    .target(
      name: "FirebreakCLI",
      dependencies: [
        "NetfilterModel", "PolicyLanguage", "NFTablesBackend", "IPTablesBackend", "VerdictEngine", "Topology",
        "Verification", "Deployment", "RulesetImport", "NFTablesNative", "IPTablesNative",
      ]),
    .executableTarget(name: "firebreak", dependencies: ["FirebreakCLI"]),

    .testTarget(name: "NetfilterModelTests", dependencies: ["NetfilterModel"]),
    .testTarget(name: "PolicyLanguageTests", dependencies: ["PolicyLanguage", "NetfilterModel"]),
    .testTarget(
      name: "BackendTests",
      dependencies: ["PolicyLanguage", "NFTablesBackend", "IPTablesBackend", "NetfilterModel"],
      exclude: ["Golden"]),
    .testTarget(
      name: "VerdictEngineTests",
      dependencies: ["VerdictEngine", "PolicyLanguage", "NetfilterModel", "SyntheticRulesets"]),
    .testTarget(
      name: "RulesetImportTests",
      dependencies: ["RulesetImport", "NetfilterModel", "VerdictEngine", "IPTablesBackend", "NFTablesBackend"]),
    .testTarget(name: "FirebreakCLITests", dependencies: ["FirebreakCLI", "NFTablesBackend"]),
    .testTarget(
      name: "DeploymentTests", dependencies: ["Deployment", "PolicyLanguage", "NetfilterModel", "VerdictEngine"]),
    .testTarget(name: "TopologyTests", dependencies: ["Topology", "NetfilterModel"], exclude: ["Golden"]),
    .testTarget(
      name: "KernelTests",
      dependencies: [
        "PolicyLanguage", "NFTablesBackend", "IPTablesBackend", "NetfilterModel", "VerdictEngine", "Topology",
        "FirebreakCLI", "Verification", "SyntheticRulesets", "NFTablesNative", "IPTablesNative", "Deployment",
        "RulesetImport",
      ]),
  ]
)
