import FirebreakCLI
import Foundation
import IPTablesBackend
import PolicyLanguage
import RulesetImport
import Testing

/// `firebreak import --netns`: a dump loaded with iptables-legacy-restore, read back natively
/// (libiptc), gives the same firewall as importing the dump file itself.
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
}
