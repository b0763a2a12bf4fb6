"""A real SMTP server for the test suite (aiosmtpd), on 127.0.0.1.

Each message received is parsed and written to DIR as a JSON file with its
envelope recipients, subject, text and HTML parts and calendar invite. With --fail N, the
first N messages are refused with a temporary error (451). Prints "ready"
once it listens; runs until it is killed.
"""
import argparse
import email
import email.policy
import json
import os
import signal
import threading
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, fail):
        self.directory = directory
        self.fail = fail
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.fail > 0:
                self.fail -= 1
                return "451 4.3.0 try again later"
            self.count += 1
            n = self.count
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        calendar = next((p for p in msg.walk() if p.get_content_type() == "text/calendar"), None)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "text": text.get_content() if text else "",
            "html": html.get_content() if html else "",
            "calendar": calendar.get_content() if calendar else "",
            "calendar_method": calendar.get_param("method", "") if calendar else "",
        }
        path = os.path.join(self.directory, f"{n:05d}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--fail", type=int, default=0)
    args = parser.parse_args()
    controller = Controller(Sink(args.dir, args.fail), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.is_set():
            time.sleep(0.2)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
