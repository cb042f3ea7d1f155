"""Neuroglancer links: reading a `#!` state into layers we can explore, and building one.

Pure functions, no I/O.

Reading (`parse_neuroglancer_url`): the state is the JSON after the first `#!` (which may
itself be percent-encoded, `%23!` or `%2523!`); the JSON may be raw or percent-encoded
once or twice (decoded with strict `%XX` escapes, `+` stays `+`). Every image or
segmentation layer whose source we can read becomes a `NeuroglancerLayer`; every other
layer (annotations, meshes, graphene, python:// ...) becomes a `SkippedLayer` with the
reason. A malformed link raises `InvalidURIError`; nothing else escapes, whatever the
input. A link without a single usable layer is not an error here (`layers` is empty);
the caller decides.

Source forms understood (Neuroglancer layer `source`: a string, `{"url": ...}` or a
list of those):

- legacy prefixes `zarr://`, `zarr2://`, `zarr3://`, `n5://`, `precomputed://` before a
  location;
- the pipe syntax `LOCATION|zarr2:`, `LOCATION/|zarr3:sub/path/`,
  `LOCATION|neuroglancer-precomputed:` (kvstore adapters such as `|zip:` or `|ocdbt:`
  are skipped with a reason);
- a bare location (Neuroglancer auto-detects the format; so does our explorer);
- locations `https://`, `http://`, `gs://`, `s3://`, and Neuroglancer's variants
  `gs+xml://`, `gs+ngauth+http(s)://SERVER/BUCKET/PATH` (read as `gs://BUCKET/PATH`,
  credentials come from us, as in Neuroglancer's Python integration),
  `s3+http(s)://HOST/BUCKET/PATH` (S3-compatible server), `middleauth+https://`
  (read as `https://`; the server wants a bearer token).

Building (`build_neuroglancer_url`) writes the legacy-prefix form (`zarr2://`,
`zarr3://`, `n5://`, `precomputed://`), which every Neuroglancer version reads.
"""

from .link import is_neuroglancer_url
from .read import NeuroglancerLayer, NeuroglancerState, SkippedLayer, parse_neuroglancer_url
from .write import DEFAULT_NEUROGLANCER_BASE, NeuroglancerLayerOut, build_neuroglancer_url

__all__ = [
    "DEFAULT_NEUROGLANCER_BASE",
    "NeuroglancerLayer",
    "NeuroglancerLayerOut",
    "NeuroglancerState",
    "SkippedLayer",
    "build_neuroglancer_url",
    "is_neuroglancer_url",
    "parse_neuroglancer_url",
]
