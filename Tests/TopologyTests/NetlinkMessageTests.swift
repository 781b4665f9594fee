import Foundation
import NetfilterModel
import Testing
import Topology

/// Each rtnetlink request, dumped readably, against `Golden/<name>.txt` (re-record with
/// UPDATE_GOLDEN=1). The dump shows the message type, flags, family header bytes and every
/// (nested) attribute, so a change in what Firebreak asks the kernel shows up as a diff.
@Suite struct NetlinkMessageTests {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    .path

  static let messages: [(String, NetlinkMessage)] = [
    ("new-bridge", RTNetlink.newBridge("br0")),
    ("new-veth-same-namespace", RTNetlink.newVeth("a0", peer: "a1", peerNamespaceFD: nil)),
    ("new-veth-peer-namespace", RTNetlink.newVeth("reth0", peer: "reth1", peerNamespaceFD: 7)),
    ("set-master", RTNetlink.setMaster(index: 4, master: 2)),
    ("set-up", RTNetlink.setUp(index: 3)),
    ("delete-link", RTNetlink.deleteLink(index: 5)),
    (
      "new-address-v4",
      RTNetlink.newAddress(InterfaceAddress(address: IPAddress("11.11.11.2")!, prefixLength: 24), index: 3)
    ),
    (
      "new-address-v6",
      RTNetlink.newAddress(InterfaceAddress(address: IPAddress("fd00::1")!, prefixLength: 64), index: 3)
    ),
    (
      "new-route-default",
      RTNetlink.newRoute(
        RouteSpec(destination: nil, version: .v4, gateway: IPAddress("10.0.1.1"), device: nil, namespace: "A"),
        outputIndex: nil)
    ),
    (
      "new-route-device",
      RTNetlink.newRoute(
        RouteSpec(
          destination: IPPrefix(address: IPAddress("10.9.0.0")!, length: 16), version: .v4, gateway: nil, device: "a0",
          namespace: "A"), outputIndex: 3)
    ),
    ("dump-links", RTNetlink.dumpLinks()),
  ]

  @Test(arguments: messages.map(\.0))
  func matchesGoldenDump(_ name: String) throws {
    let message = try #require(Self.messages.first { $0.0 == name }?.1)
    let bytes = message.encoded(sequence: 1)
    let dump =
      message.description + "\nbytes \(bytes.count): " + bytes.map { String(format: "%02x", $0) }.joined() + "\n"
    let path = "\(Self.directory)/\(name).txt"
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
      try dump.write(toFile: path, atomically: true, encoding: .utf8)
      return
    }
    let expected = try String(contentsOfFile: path, encoding: .utf8)
    #expect(dump == expected)
  }

  @Test func lengthsAndAlignment() {
    let bytes = RTNetlink.newBridge("br0").encoded(sequence: 9)
    // nlmsghdr length field equals the byte count, and every message is 4-byte aligned.
    let length = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
    #expect(length == bytes.count)
    #expect(bytes.count % 4 == 0)
    // The sequence number sits at offset 8.
    #expect(bytes[8] == 9)
  }
}
