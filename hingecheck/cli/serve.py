"""``hingecheck serve --data DIR``: the clinician portal (clients upload, clinicians review)."""

from __future__ import annotations

import argparse
import logging

from hingecheck.serve import require_serve_extra


def add_subcommand(sub: argparse._SubParsersAction) -> None:
    """Register ``hingecheck serve``."""
    p = sub.add_parser("serve", help="the clinician portal: upload links for clients, review pages, JSON API")
    p.add_argument("--data", required=True, metavar="DIR", help="data folder: results.sqlite, uploads/, results/")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument("--workers", type=int, metavar="N", help="analyses at a time (default 1)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="analyse on a Dask cluster, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--max-upload-mb", type=float, metavar="MB", help="largest accepted upload (default 2048)")
    p.add_argument("--public-url", metavar="URL", help="base of the upload links, e.g. https://clinic.example")
    p.add_argument("--config", metavar="FILE", help="TOML overriding analysis thresholds, as for analyze")
    p.add_argument(
        "--no-blur-faces",
        dest="blur_faces",
        action="store_false",
        default=None,
        help="store annotated videos without face blur (blurred by default)",
    )
    p.add_argument(
        "--no-video",
        dest="write_video",
        action="store_false",
        default=None,
        help="no annotated video (faster; the recording page then shows no video)",
    )
    p.add_argument(
        "--no-keep-originals",
        dest="keep_originals",
        action="store_false",
        default=None,
        help="delete each uploaded original once it is analysed (keep only the blurred analysis)",
    )
    p.add_argument("--secure-cookies", action="store_true", default=None, help="cookies only over HTTPS")
    p.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Build the portal for DIR and serve it with uvicorn until interrupted."""
    require_serve_extra()
    import uvicorn

    from hingecheck.serve.app import create_app
    from hingecheck.serve.config import load_config

    config = load_config(
        args.data,
        host=args.host,
        port=args.port,
        workers=args.workers,
        scheduler=args.scheduler,
        max_upload_mb=args.max_upload_mb,
        public_url=args.public_url,
        config_path=args.config,
        blur_faces=args.blur_faces,
        write_video=args.write_video,
        secure_cookies=args.secure_cookies,
        keep_originals=args.keep_originals,
    )
    # a server keeps a log: the portal's own events (uploads, jobs, logins) at INFO with timestamps on stderr
    serve_log = logging.getLogger("hingecheck.serve")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    serve_log.addHandler(handler)
    serve_log.setLevel(logging.INFO)
    serve_log.propagate = False
    app = create_app(config)
    print(f"hingecheck portal: {config.base_url}/  (data in {config.data_dir}, {config.workers} worker(s))", flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning", timeout_graceful_shutdown=5)
    return 0
