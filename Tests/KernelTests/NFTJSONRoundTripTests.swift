import Foundation
import NFTablesBackend
import NetfilterModel
import RulesetImport
import Testing

/// Every example and golden firewall the nft backend accepts, through the kernel twice: the
/// compiled script loaded with `nft -f` in one scratch namespace, its `nft -j list ruleset`
/// imported with `NFTJSONImporter` and compiled again into a second one; both `nft list ruleset`
/// listings must agree (comments aside: the import's rules carry the JSON file as their origin).
@Suite(.serialized, .enabled(if: Kernel.available, "kernel tests need root and the netfilter tools (see stderr)"))
struct NFTJSONRoundTripTests {
  @Test(arguments: Repo.allPolicies)
  func importedJSONListsBackLikeTheOriginal(_ path: String) throws {
    for fw in try RoundTripKernelTests.firewalls(path) {
      guard let script = try? NFTScript().compile(fw.ruleset, source: path) else { continue }
      let original = try ScratchNamespace("json")
      defer { original.remove() }
      try original.check(["/usr/sbin/nft", "-f", "-"], input: script)
      let json = try original.check(["/usr/sbin/nft", "-j", "list", "ruleset"])
      let imported = NFTJSONImporter().importRuleset(json, file: "\(fw.namespace).json")
      #expect(imported.diagnostics.isEmpty, "\(path) firewall \(fw.namespace): \(imported.diagnostics)")
      let again = try NFTScript().compile(imported.ruleset)
      let copy = try ScratchNamespace("json")
      defer { copy.remove() }
      try copy.check(["/usr/sbin/nft", "-f", "-"], input: again)
      let originalListing = try original.check(["/usr/sbin/nft", "list", "ruleset"])
      // With the comments as imported (no origin added), the model prints the kernel's listing.
      #expect(
        Listing.nft(NFTScript().listing(imported.ruleset, comments: .userOnly)) == Listing.nft(originalListing),
        "\(path) firewall \(fw.namespace): the imported model does not print the kernel's listing")
      let expected = Self.withoutComments(originalListing)
      let listed = Self.withoutComments(try copy.check(["/usr/sbin/nft", "list", "ruleset"]))
      #expect(!fw.ruleset.tables.isEmpty && listed.contains("table "), "\(path): nothing was compared")
      #expect(listed == expected, "\(path) firewall \(fw.namespace)")
    }
  }

  /// The corpus's nft rulesets: loaded with `nft -f`, listed as JSON, imported, compiled again.
  static var corpus: [String] {
    let dir = Repo.root + "/Tests/Corpus"
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".nft") }.sorted()
  }

  /// OpenWrt's fw4 declares `ct helper` objects: this kernel has no nf_conntrack_rtsp, so `nft -f`
  /// refuses the whole file.
  static let refusedByTheKernel: Set<String> = ["27_openwrt_fw4_default_router.nft"]

  @Test(arguments: corpus)
  func corpusRulesetsListBackThroughJSON(_ name: String) throws {
    let text = try String(contentsOfFile: Repo.root + "/Tests/Corpus/" + name, encoding: .utf8)
    let original = try ScratchNamespace("json")
    defer { original.remove() }
    let loaded = try original.exec(["/usr/sbin/nft", "-f", "-"], input: text)
    if Self.refusedByTheKernel.contains(name) {
      #expect(loaded.status != 0, "the kernel now accepts \(name)")
      return
    }
    #expect(loaded.status == 0, "nft -f refused \(name): \(loaded.stderr)")
    let json = try original.check(["/usr/sbin/nft", "-j", "list", "ruleset"])
    let imported = NFTJSONImporter().importRuleset(json, file: name + ".json")
    #expect(imported.diagnostics.isEmpty, "\(imported.diagnostics)")
    let copy = try ScratchNamespace("json")
    defer { copy.remove() }
    try copy.check(["/usr/sbin/nft", "-f", "-"], input: try NFTScript().compile(imported.ruleset))
    let expected = Self.withoutComments(try original.check(["/usr/sbin/nft", "list", "ruleset"]))
    #expect(Self.withoutComments(try copy.check(["/usr/sbin/nft", "list", "ruleset"])) == expected)
  }

  /// What the model cannot express, as the kernel's own JSON lists it: each rule is kept, with an
  /// opaque part and a warning naming the expression.
  @Test func unmodelledExpressionsAreKeptOpaqueWithAWarning() throws {
    let script = """
      table inet t {
        chain c {
          type filter hook input priority 0; policy accept;
          fib daddr . iif type local accept
          ct status dnat accept
          quota over 25 mbytes drop
          iifname vmap { "lo" : accept }
          tcp dport 22 accept
        }
      }
      """
    let ns = try ScratchNamespace("json")
    defer { ns.remove() }
    try ns.check(["/usr/sbin/nft", "-f", "-"], input: script)
    let json = try ns.check(["/usr/sbin/nft", "-j", "list", "ruleset"])
    let imported = NFTJSONImporter().importRuleset(json, file: "live.json")
    #expect(imported.errors.isEmpty)
    let rules = try #require(imported.ruleset.table(.inet, "t")?.chain("c")?.rules)
    #expect(rules.count == 5)
    #expect(imported.warnings.count == 4)
    for (warning, name) in zip(imported.warnings, ["fib", "ct status", "quota", "vmap"]) {
      #expect(warning.message.hasPrefix("rule inet t/c/") && warning.message.contains(": \(name) is not modelled"))
    }
    #expect(rules[4] == Rule(matches: [Match(.port(.tcp, .destination, .single(PortRange(22))))], verdict: .accept))
  }

  /// The listing without rule comments (`comment "…"`), normalised by `Listing.nft`.
  static func withoutComments(_ listing: String) -> String {
    Listing.nft(listing.replacingOccurrences(of: #" comment "(?:[^"\\]|\\.)*""#, with: "", options: .regularExpression))
  }
}
