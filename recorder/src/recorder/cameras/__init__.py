"""Mock RTSP cameras: looping pre-encoded H.264 clips with fault hooks (see ``cli`` and ``control``)."""
