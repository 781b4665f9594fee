import Foundation
import IPTablesBackend
import IPTablesNative
import Testing

/// The native backend's text path without the kernel: compiled text → structured rules →
/// entries → iptables-save text, which must be the compiled text again.
struct NativeIPTablesTextTests {
  @Test(arguments: NativeIPTablesTests.compiled.map(\.0))
  func entriesPrintBackAsTheCompiledText(_ label: String) throws {
    let output = try #require(NativeIPTablesTests.compiled.first { $0.0 == label }?.1)
    let expected = try IPTSnapshot(IPTRuleset(output))
    #expect(Listing.iptables(expected.listing(.ipv4)) == Listing.iptables(output.ipv4 ?? ""), "\(label)")
    #expect(Listing.iptables(expected.listing(.ipv6)) == Listing.iptables(output.ipv6 ?? ""), "\(label)")
  }

  @Test(arguments: [
    ("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n", "line 1: table without COMMIT: *filter"),
    ("-A INPUT -j ACCEPT\n", "line 1: line outside a *table … COMMIT block: -A INPUT -j ACCEPT"),
    ("*filter\n-I INPUT -j ACCEPT\nCOMMIT\n", "line 2: only -A rules are supported: -I INPUT -j ACCEPT"),
    (
      "*filter\n-A INPUT -p tcp -m tcp --dport 99999 -j ACCEPT\nCOMMIT\n",
      "line 2: bad port 99999: -A INPUT -p tcp -m tcp --dport 99999 -j ACCEPT"
    ),
    ("*filter\n-A INPUT -j NFLOG\nCOMMIT\n", "line 2: unsupported target -j NFLOG: -A INPUT -j NFLOG"),
    (
      "*filter\n-A INPUT -m comment --comment \"open\nCOMMIT\n",
      "line 2: unterminated quote: -A INPUT -m comment --comment \"open"
    ),
    (
      "*filter\n-A INPUT -s 1.2.3.4/33 -j DROP\nCOMMIT\n",
      "line 2: bad prefix length in 1.2.3.4/33: -A INPUT -s 1.2.3.4/33 -j DROP"
    ),
  ])
  func unsupportedTextIsRefusedAtItsLine(_ text: String, _ message: String) {
    #expect(throws: IPTablesNativeError.self) { try IPTRuleset(IPTablesOutput(ipv4: text, ipv6: nil)) }
    do {
      _ = try IPTRuleset(IPTablesOutput(ipv4: text, ipv6: nil))
    } catch {
      #expect(error.description == message)
    }
  }
}
