import Foundation
import NFTablesBackend
import NFTablesNative
import NetfilterModel
import SyntheticRulesets
import Testing
import Topology

/// Native nftables (libnftnl over netlink) against the independent oracle: `nft -f` of the same
/// compiled script, and `nft list ruleset` of both. Every test works in its own `fbt-` namespaces.
@Suite(.serialized, .enabled(if: Kernel.available, "kernel tests need root and the netfilter tools (see stderr)"))
struct NativeNFTablesTests {
  /// Runs `body` with a connection opened inside the scratch namespace.
  @discardableResult static func native<T>(_ ns: ScratchNamespace, _ body: @escaping (Connection) throws -> T) throws
    -> T
  {
    try NetworkNamespace.run(in: ns.name) { try body(Connection()) }
  }

  static func listing(_ ns: ScratchNamespace) throws -> String {
    try ns.check(["/usr/sbin/nft", "list", "ruleset"])
  }

  /// The firewalls of a policy the nft backend accepts, with their compiled scripts.
  static func compiled(_ path: String) throws -> [(Firewall, String)] {
    try RoundTripKernelTests.firewalls(path).compactMap { fw in
      guard let script = try? NFTScript().compile(fw.ruleset, source: path) else { return nil }
      return (fw, script)
    }
  }

  static func withoutAnonymousSetTypeof(_ text: String) -> String {
    text.replacingOccurrences(
      of: #"(?m)^(  set __set\d+ .*userdata 00040[12]000000(020401000000)?)[0-9a-f]*$"#, with: "$1",
      options: .regularExpression)
  }

  @Test(arguments: Repo.allPolicies)
  func nativeApplyListsLikeNftF(_ path: String) throws {
    for (fw, script) in try Self.compiled(path) {
      let native = try ScratchNamespace("nat")
      defer { native.remove() }
      let tool = try ScratchNamespace("nft")
      defer { tool.remove() }
      // Twice: the second apply must replace the tables, not add to them.
      try Self.native(native) { c in
        try c.apply(fw.ruleset)
        try c.apply(fw.ruleset)
      }
      try tool.check(["/usr/sbin/nft", "-f", "-"], input: script)
      let mine = try Self.listing(native)
      let theirs = try Self.listing(tool)
      #expect(Listing.nft(mine) == Listing.nft(theirs), "\(path) firewall \(fw.namespace)\n\(mine)\n---\n\(theirs)")
      // Stricter: the kernel objects themselves (expressions, set flags and elements) are nft's.
      let ids = fw.ruleset.tables.map(TableID.init)
      let mineObjects = try Self.native(native) { try $0.snapshot(tables: ids) }
      let theirObjects = try Self.native(tool) { try $0.snapshot(tables: ids) }
      // Not yet: nft 1.0.6 also describes an anonymous set's key as an expression in its userdata
      // (NFTNL_UDATA_SET_KEY_TYPEOF); the listing does not depend on it.
      let mineText = Self.withoutAnonymousSetTypeof(mineObjects.canonicalText)
      let theirText = Self.withoutAnonymousSetTypeof(theirObjects.canonicalText)
      #expect(mineText == theirText, "\(path): objects differ from nft's")
    }
  }

  /// A generated ruleset of 2000 rules (prefixes, ranges, negations, jumps) lists like `nft -f`.
  @Test func syntheticRulesetListsLikeNftF() throws {
    var generator = SyntheticRulesets(seed: 5)
    let ruleset = generator.ruleset(size: 2000)
    let native = try ScratchNamespace("nat")
    defer { native.remove() }
    let tool = try ScratchNamespace("nft")
    defer { tool.remove() }
    try Self.native(native) { try $0.apply(ruleset) }
    try tool.check(["/usr/sbin/nft", "-f", "-"], input: try NFTScript().compile(ruleset))
    #expect(Listing.nft(try Self.listing(native)) == Listing.nft(try Self.listing(tool)))
  }

  /// A table another tool owns survives apply and restore untouched.
  @Test func foreignTableSurvivesApplyAndRestore() throws {
    let ns = try ScratchNamespace("foreign")
    defer { ns.remove() }
    try ns.check(["/usr/sbin/nft", "add", "table", "inet", "foreign"])
    try ns.check(["/usr/sbin/nft", "add", "chain", "inet", "foreign", "c", "{ type filter hook input priority 5; }"])
    try ns.check(["/usr/sbin/nft", "add", "rule", "inet", "foreign", "c", "tcp", "dport", "2222", "drop"])
    let foreign = try ns.check(["/usr/sbin/nft", "list", "table", "inet", "foreign"])
    let (fw, _) = try #require(try Self.compiled(Repo.root + "/Rules/server.policy").first)
    let ids = fw.ruleset.tables.map(TableID.init)
    try Self.native(ns) { c in
      let before = try c.snapshot(tables: ids)
      try c.apply(fw.ruleset)
      try c.restore(before, replacing: ids)
    }
    #expect(try ns.check(["/usr/sbin/nft", "list", "table", "inet", "foreign"]) == foreign)
  }

  /// snapshot -> apply something else -> restore gives back the exact listing.
  @Test func restoreGivesBackTheExactListing() throws {
    let ns = try ScratchNamespace("restore")
    defer { ns.remove() }
    let server = try #require(try Self.compiled(Repo.root + "/Rules/server.policy").first).0
    let router = try #require(try Self.compiled(Repo.root + "/Rules/router.policy").first).0
    try Self.native(ns) { try $0.apply(server.ruleset) }
    let before = try Self.listing(ns)
    let serverIDs = server.ruleset.tables.map(TableID.init)
    let routerIDs = router.ruleset.tables.map(TableID.init)
    let snapshot = try Self.native(ns) { c -> NFTSnapshot in
      let s = try c.snapshot()
      try c.apply(router.ruleset, deleting: serverIDs)
      return s
    }
    #expect(try Self.listing(ns) != before)
    // The snapshot survives encoding (it is what a generation file stores).
    let decoded = try JSONDecoder().decode(NFTSnapshot.self, from: try JSONEncoder().encode(snapshot))
    try Self.native(ns) { c in
      try c.restore(decoded, replacing: routerIDs)
      #expect(try c.snapshot() == snapshot)
    }
    #expect(try Self.listing(ns) == before)
  }

  /// nft parts kept as text (a match and a statement) cannot be built natively: refused at their
  /// policy locations before anything is sent (they go through libnftables instead).
  @Test func nftTextPartsAreRefusedNativelyAtTheirPlaces() throws {
    let ns = try ScratchNamespace("text")
    defer { ns.remove() }
    let fib = Match(
      .opaque(OpaqueMatch(module: "fib", text: "fib daddr type local", syntax: .nft)),
      location: SourceLocation(file: "p.policy", line: 4, column: 5))
    let trace = Rule(
      verdict: .opaque(OpaqueTarget(name: "meta nftrace", text: "meta nftrace set 1", isTerminal: false, syntax: .nft)),
      verdictLocation: SourceLocation(file: "p.policy", line: 5, column: 5),
      location: SourceLocation(file: "p.policy", line: 5, column: 5))
    let base = BaseChain(type: .filter, hook: .input, priority: .number(0))
    for rule in [Rule(matches: [fib], verdict: .accept), trace] {
      let ruleset = Ruleset(tables: [
        Table(family: .inet, name: "t", chains: [Chain(name: "c", kind: .base(base), rules: [rule])])
      ])
      #expect(Libnftables.isNeeded(for: ruleset))
      let error = try Self.native(ns) { c -> DiagnosticList? in
        do {
          try c.apply(ruleset)
          return nil
        } catch let e as DiagnosticList {
          return e
        }
      }
      let refusal = try #require(error?.diagnostics.first)
      #expect(refusal.location.line == (rule.verdict == .accept ? 4 : 5) && refusal.location.column == 5)
      #expect(refusal.message.contains("only nft's own parser can build it"), "\(refusal)")
    }
    #expect(try Self.listing(ns).isEmpty)
  }

  /// Rulesets the model accepts but the kernel refuses: the error names the object and errno, and
  /// the kernel keeps what it had.
  @Test(arguments: [RejectedCase.natInFilterChain, .jumpLoop])
  func kernelRefusalNamesTheObjectAndChangesNothing(_ reject: RejectedCase) throws {
    let ns = try ScratchNamespace("reject")
    defer { ns.remove() }
    let server = try #require(try Self.compiled(Repo.root + "/Rules/server.policy").first).0
    try Self.native(ns) { try $0.apply(server.ruleset) }
    let before = try Self.listing(ns)
    let error = try Self.native(ns) { c -> NFTKernelError? in
      do {
        try c.apply(reject.ruleset, deleting: server.ruleset.tables.map(TableID.init))
        return nil
      } catch let e as NFTKernelError {
        return e
      }
    }
    let e = try #require(error, "the kernel accepted \(reject)")
    #expect(e.description.hasPrefix(reject.expectedPrefix), "\(e)")
    #expect(e.errno == reject.errno, "\(e)")
    #expect(e.location?.line == 7, "\(e)")
    #expect(try Self.listing(ns) == before)
  }

  enum RejectedCase: String, CustomTestStringConvertible, Sendable {
    case natInFilterChain, jumpLoop
    var testDescription: String { rawValue }

    static let at = SourceLocation(file: "bad.policy", line: 7, column: 5)

    var ruleset: Ruleset {
      switch self {
      case .natInFilterChain:
        // The nat expression only runs in a `type nat` chain; the kernel checks it, the model does not.
        let base = BaseChain(type: .filter, hook: .prerouting, priority: .number(0))
        let dnat = Rule(verdict: .dnat(NATDestination(address: IPAddress("10.0.0.2")!)), location: Self.at)
        return Ruleset(tables: [
          Table(family: .ip, name: "edge", chains: [Chain(name: "pre", kind: .base(base), rules: [dnat])])
        ])
      case .jumpLoop:
        let a = Chain(name: "a", kind: .regular, rules: [Rule(verdict: .jump(chain: "b"))])
        let b = Chain(name: "b", kind: .regular, rules: [Rule(verdict: .jump(chain: "a"), location: Self.at)])
        let base = BaseChain(type: .filter, hook: .input, priority: .number(0))
        let input = Chain(name: "input", kind: .base(base), rules: [Rule(verdict: .jump(chain: "a"))])
        return Ruleset(tables: [Table(family: .ip, name: "loop", chains: [input, a, b])])
      }
    }

    var expectedPrefix: String {
      switch self {
      case .natInFilterChain: return "cannot add rule ip edge pre rule 1 (bad.policy:7:5): "
      case .jumpLoop: return "cannot add rule ip loop b rule 1 (bad.policy:7:5): "
      }
    }

    var errno: Int32 {
      switch self {
      case .natInFilterChain: return EOPNOTSUPP
      // This kernel reports a jump loop as too deep a chain nesting.
      case .jumpLoop: return EMLINK
      }
    }
  }
}
