"""RTSP/RTP building blocks shared by the mock cameras and the restream server.

Modules: ``messages`` (RTSP request/response framing), ``transport`` (the Transport header),
``sdp`` (H.264 session descriptions), ``h264`` (Annex-B NAL handling), ``rtp`` (RFC 6184
packetisation with FU-A, and the reverse for tests), ``sender`` (interleaved TCP and UDP RTP
output), ``server`` (the asyncio RTSP server) and ``client`` (a small RTSP client used by tests and
measurements).
"""
