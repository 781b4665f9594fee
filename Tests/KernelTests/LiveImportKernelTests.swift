import Foundation
import IPTablesBackend
import NetfilterModel
import PolicyLanguage
import RulesetImport
import Testing

@testable import FirebreakCLI

/// `firebreak import --netns`: a namespace's legacy x_tables tables (read natively, libiptc) and
/// its nftables tables (listed through libnftables) give the same policy as importing dumps of
/// them. Every test works in its own scratch namespace.
///
/// The tests that import nftables tables (`liveNFTImportEqualsFileImport`,
/// `mixedNamespaceImportsLegacyAndNFTTables`) need `NFTTextImporter`: they fail until it is built.
@Suite struct LiveImportKernelTests {
  @Test(arguments: NativeIPTablesTests.corpusDumps)
  func liveImportEqualsFileImport(_ name: String) throws {
    guard Kernel.available else { return }
    let path = ImportRoundTripKernelTests.corpus + "/" + name
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let ns = try ScratchNamespace("imp")
    defer { ns.remove() }
    try ns.check(["/usr/sbin/iptables-legacy-restore"], input: text)
    let console = Console.capturing()
    #expect(CLI(console: console).run(["import", "--netns", ns.name]) == 0, "\(console.err)")
    var resolver = Resolver(source: MemorySource(["live.policy": console.out]))
    let (policy, diagnostics) = resolver.resolve(path: "live.policy")
    let live = try #require(policy?.firewalls.first?.ruleset, "\(diagnostics.map(\.description))")
    let file = IPTablesSaveImporter().importRuleset(text, file: name).ruleset
    let compiler = IPTablesCompiler(originComments: false)
    #expect(
      Listing.iptables(try compiler.compile(live).ipv4 ?? "") == Listing.iptables(try compiler.compile(file).ipv4 ?? "")
    )
  }

  /// The policy `import` prints, without its header comment (which names where it came from).
  static func body(_ policy: String) -> String {
    policy.split(separator: "\n", omittingEmptySubsequences: false).drop { $0.hasPrefix("#") || $0.isEmpty }
      .joined(separator: "\n")
  }

  /// What `import` prints for `ruleset`, without the header.
  static func printed(_ ruleset: Ruleset) throws -> String {
    let (text, diagnostics) = PolicyPrinter.print(ruleset, header: [])
    return body(try #require(text, "\(diagnostics.map(\.description))"))
  }

  /// Runs `import --netns NS`; the policy printed without its header, or nil with the errors.
  static func liveImport(_ ns: ScratchNamespace) -> (policy: String?, status: Int32, errors: String) {
    let console = Console.capturing()
    let status = CLI(console: console).run(["import", "--netns", ns.name])
    return (status == 0 ? body(console.out) : nil, status, console.err)
  }

  /// Needs NFTTextImporter. The corpus's nft ruleset loaded with `nft -f`: importing the live
  /// namespace prints the policy importing the file prints.
  @Test func liveNFTImportEqualsFileImport() throws {
    guard Kernel.available else { return }
    let name = "24_ongy_flatshare.nft"
    let text = try String(contentsOfFile: ImportRoundTripKernelTests.corpus + "/" + name, encoding: .utf8)
    let ns = try ScratchNamespace("imp")
    defer { ns.remove() }
    try ns.check(["/usr/sbin/nft", "-f", "-"], input: text)
    let live = Self.liveImport(ns)
    let policy = try #require(live.policy, "exit \(live.status): \(live.errors)")
    #expect(policy.contains("table ip nat") && policy.contains("table ip filter"), "\(policy)")
    let file = NFTTextImporter().importRuleset(text, file: name)
    #expect(!file.hasErrors, "\(file.diagnostics.map(\.description))")
    #expect(policy == (try Self.printed(file.ruleset)))
  }

  /// Needs NFTTextImporter. One legacy iptables table and one nftables table in one namespace:
  /// both are imported, as importing the two tools' dumps of them (iptables-legacy-save, nft list
  /// ruleset) gives them.
  @Test func mixedNamespaceImportsLegacyAndNFTTables() throws {
    guard Kernel.available else { return }
    let ns = try ScratchNamespace("imp")
    defer { ns.remove() }
    try ns.check(["/usr/sbin/iptables-legacy-restore"], input: Self.legacyFilter)
    try ns.check(["/usr/sbin/nft", "-f", "-"], input: Self.nftTable)
    let live = Self.liveImport(ns)
    let policy = try #require(live.policy, "exit \(live.status): \(live.errors)")
    #expect(policy.contains("table ip filter") && policy.contains("table inet web"), "\(policy)")
    let legacy = IPTablesSaveImporter().importRuleset(
      try ns.check(["/usr/sbin/iptables-legacy-save"]), file: "iptables-legacy-save")
    let nft = NFTTextImporter().importRuleset(try ns.check(["/usr/sbin/nft", "list", "ruleset"]), file: "nft list")
    #expect(!legacy.hasErrors && !nft.hasErrors, "\((legacy.diagnostics + nft.diagnostics).map(\.description))")
    #expect(policy == (try Self.printed(Ruleset(tables: legacy.ruleset.tables + nft.ruleset.tables))))
  }

  /// iptables-nft beside iptables-legacy: `table ip filter` exists as a legacy table and as an
  /// nftables table. Import refuses, naming it, and prints no policy.
  @Test func aTableInBothIsAnErrorNamingIt() throws {
    guard Kernel.available else { return }
    let ns = try ScratchNamespace("imp")
    defer { ns.remove() }
    try ns.check(["/usr/sbin/iptables-legacy-restore"], input: Self.legacyFilter)
    try ns.check(["/usr/sbin/iptables-nft-restore"], input: Self.legacyFilter)
    try ns.check(["/usr/sbin/nft", "-f", "-"], input: Self.nftTable)
    let console = Console.capturing()
    #expect(CLI(console: console).run(["import", "--netns", ns.name]) == 2)
    #expect(
      console.err.contains(
        "firebreak: error: namespace \(ns.name) has table ip filter both as a legacy x_tables table (iptables-legacy) and as an nftables table"
      ), "\(console.err)")
    #expect(!console.err.contains("inet web"), "\(console.err)")
    #expect(console.out.isEmpty)
  }

  static let legacyFilter = """
    *filter
    :INPUT ACCEPT [0:0]
    :FORWARD DROP [0:0]
    :OUTPUT ACCEPT [0:0]
    -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
    -A FORWARD -s 10.0.0.0/8 -j ACCEPT
    COMMIT

    """

  static let nftTable = """
    table inet web {
    \tchain input {
    \t\ttype filter hook input priority filter + 10; policy drop;
    \t\ttcp dport { 80, 443 } accept
    \t}
    }

    """
}
