// Native nftables: filled in by issue #5.
import CNftnl
import NetfilterModel
