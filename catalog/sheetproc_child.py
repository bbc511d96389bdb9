"""The sheet-reading child process: python-calamine under a memory limit (see ``sheetproc``).

Run as a script (``python -I -S sheetproc_child.py SITE_DIR LIMIT_BYTES``): it imports only the
standard library and python_calamine, so that it starts in about 10 ms. Requests and answers are
length-prefixed frames on stdin and stdout; rows travel pickled, in batches.
"""

import sys

WHOLE, PIECE = 0, 1
BATCH_ROWS = 2000
OUT_OF_MEMORY = 3  # exit status when Python itself runs out (calamine's Rust aborts instead)


def main() -> None:
    site, limit = sys.argv[1], int(sys.argv[2])
    import resource

    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.path.insert(0, site)
    import io
    import pickle
    import struct

    from python_calamine import CalamineError, CalamineWorkbook

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer

    def send(message) -> None:
        payload = pickle.dumps(message, protocol=5)
        stdout.write(struct.pack("!Q", len(payload)) + payload)
        stdout.flush()

    def read(n: int) -> bytes:
        data = stdin.read(n)
        if len(data) != n:
            raise EOFError
        return data

    try:
        while True:
            try:
                mode, name_len, data_len = struct.unpack("!BIQ", read(13))
            except EOFError:
                return
            name = read(name_len).decode()
            data = read(data_len)
            try:
                sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(name)
                del data
                if mode == PIECE:
                    start = sheet.start
                    rows = sheet.to_python(skip_empty_area=True) if start else []
                    send(("piece", start[0] if start else 0, start[1] if start else 0, rows))
                else:
                    send(("start", sheet.start[1] if sheet.start else 0, sheet.height))
                    batch = []
                    for cells in sheet.iter_rows():
                        batch.append(cells)
                        if len(batch) >= BATCH_ROWS:
                            send(("rows", batch))
                            batch = []
                    send(("rows", batch))
                    send(("end",))
            except CalamineError as err:
                send(("error", str(err)))
    except MemoryError:
        sys.exit(OUT_OF_MEMORY)


if __name__ == "__main__":
    main()
