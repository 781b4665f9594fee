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
    ("*filter\n-A INPUT -j TEE\nCOMMIT\n", "line 2: unsupported target -j TEE: -A INPUT -j TEE"),
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
    Self.expectRefusal(text, message)
  }

  /// Bad options of the extensions kept verbatim by `firebreak import`: each names its line and
  /// says what is wrong, before anything reaches the kernel.
  @Test(arguments: [
    ("-m state --state BOGUS", "unknown state BOGUS"),
    ("-m owner ! --suppl-groups --gid-owner 1", "--suppl-groups of owner cannot be negated"),
    ("-m owner --suppl-groups", "--suppl-groups needs --gid-owner"),
    ("-m owner --uid-owner 5-1", "bad --uid-owner 5-1"),
    ("-m owner", "-m owner needs --uid-owner, --gid-owner or --socket-exists"),
    ("-m connmark --mark 0x1/0xzz", "bad mark mask 0x1/0xzz"),
    ("-m addrtype --src-type LOCALE", "unknown address type LOCALE"),
    (
      "-m addrtype --dst-type LOCAL --limit-iface-in --limit-iface-out",
      "--limit-iface-in and --limit-iface-out exclude each other"
    ),
    ("-m pkttype --pkt-type anycast", "unknown --pkt-type anycast"),
    ("-m length --length 200:100", "bad --length range 200:100"),
    ("-m ttl ! --ttl-lt 5", "--ttl-lt cannot be negated"),
    ("-m hl --hl-eq 5", "-m hl in ip rules"),
    ("-m tos --tos Fast", "bad TOS value Fast"),
    ("-m dscp --dscp 64", "bad --dscp 64 (0…63)"),
    ("-m statistic --mode random --probability 1.5", "bad --probability 1.5 (0…1)"),
    ("-m statistic --mode nth --every 3 --packet 3", "--packet must be below --every"),
    ("-m statistic --mode nth --every 3", "--mode nth takes --every and --packet"),
    ("-m recent --rcheck --update", "-m recent takes one of --set, --rcheck, --update, --remove"),
    ("-m recent --set --reap", "--reap needs --seconds"),
    ("-m recent --set --name a/b", "bad --name a/b"),
    ("-m hashlimit --hashlimit-upto 5/sec", "-m hashlimit needs --hashlimit-name"),
    ("-m hashlimit --hashlimit-name x", "-m hashlimit needs --hashlimit-upto or --hashlimit-above"),
    ("-m hashlimit --hashlimit-upto 5/fortnight --hashlimit-name x", "bad rate 5/fortnight"),
    ("-m hashlimit --hashlimit-upto 1/s --hashlimit-above 2/s --hashlimit-name x", "-m hashlimit takes one rate"),
    ("-m hashlimit --hashlimit-upto 1/s --hashlimit-mode srcmac --hashlimit-name x", "bad --hashlimit-mode srcmac"),
    (
      "-m hashlimit --hashlimit-upto 1mb/s --hashlimit-burst 1kb --hashlimit-name x", "--hashlimit-burst below 1048576b"
    ),
    (
      "-m hashlimit --hashlimit-upto 1/s --hashlimit-burst 1000001 --hashlimit-name x",
      "bad --hashlimit-burst 1000001 (1…1000000)"
    ),
    (
      "-m hashlimit --hashlimit-upto 1/s --hashlimit-srcmask 33 --hashlimit-name x", "bad --hashlimit-srcmask 33 (0…32)"
    ),
    ("-j LOG --log-uid --log-uid", "--log-uid of LOG given twice"),
    ("-j CONNMARK --nfmask 0xff", "CONNMARK takes exactly one operation"),
    ("-j CONNMARK --save-mark --mask 0xff --ctmask 0xf", "--mask excludes --ctmask and --nfmask"),
    ("-j CONNMARK --set-mark 1 --restore-mark", "CONNMARK takes exactly one operation"),
    ("-j CT --timeout strict", "unsupported option --timeout of CT"),
    ("-j CT --ctevents new,bogus", "unknown event bogus"),
    ("-j CT --helper a_helper_name_too_long", "--helper must be 1 to 15 bytes without newlines"),
    ("-j NFLOG --nflog-size 1 --nflog-range 1", "--nflog-size and --nflog-range exclude each other"),
    ("-j NFLOG --nflog-group 65536", "bad --nflog-group 65536 (0…65535)"),
    ("-j TCPMSS --set-mss 1400 --clamp-mss-to-pmtu", "TCPMSS takes one of --set-mss, --clamp-mss-to-pmtu"),
    ("-j TRACE --now 1", "unsupported option --now of TRACE"),
    ("-j TTL --ttl-dec 0", "bad --ttl-dec 0 (1…255)"),
    ("-j CLASSIFY --set-class 1:10000", "bad --set-class 1:10000 (MAJOR:MINOR in hex)"),
    ("-j NFQUEUE --queue-balance 3:3", "--queue-balance needs A:B with A below B"),
    ("-j NFQUEUE --queue-num 1 --queue-balance 1:2", "--queue-num and --queue-balance exclude each other"),
    ("-j DSCP --set-dscp-class AF99", "unknown DSCP class AF99"),
  ])
  func badExtensionOptionsAreRefusedAtTheirLine(_ rule: String, _ reason: String) {
    let line = "-A OUTPUT " + rule
    Self.expectRefusal("*mangle\n:OUTPUT ACCEPT [0:0]\n\(line)\nCOMMIT\n", "line 3: \(reason): \(line)")
  }

  static func expectRefusal(_ text: String, _ message: String) {
    #expect(throws: IPTablesNativeError.self) { try IPTRuleset(IPTablesOutput(ipv4: text, ipv6: nil)) }
    do {
      _ = try IPTRuleset(IPTablesOutput(ipv4: text, ipv6: nil))
    } catch {
      #expect(error.description == message)
    }
  }
}
