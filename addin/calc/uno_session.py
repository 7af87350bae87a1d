"""A headless LibreOffice driven over UNO, run by LibreOffice's own Python (stdlib + uno only).

Why a separate interpreter: pyuno is built for the system Python; imported into another interpreter
(a pyenv or virtualenv Python) it loads, but calls such as ``setFormula`` and
``ExtensionManager.addExtension`` fail with ``std::bad_alloc`` (checked on Debian 12, LibreOffice 7.4.7),
so the product runs this file with ``/usr/bin/python3`` (``addin.calc.office``).

    python3 uno_session.py install PROFILE_DIR EXTENSION.oxt   # one JSON line: what was installed
    python3 uno_session.py serve PROFILE_DIR                   # JSON requests on stdin, replies on stdout

``serve`` starts one soffice on the profile, then for each request line ``{"code": "..."}`` runs the
code with ``ctx``, ``desktop``, ``uno``, ``prop``, ``load`` and ``dispatch`` in scope and replies
``{"ok": true, "result": <the variable result>}`` or ``{"ok": false, "error": "..."}``; end of input
(or ``{"quit": true}``) terminates soffice and its process group.
"""
import json
import os
import signal
import subprocess
import sys
import time
import traceback

sys.path += ["/usr/lib/python3/dist-packages", "/usr/lib/libreoffice/program"]
import uno  # noqa: E402
import unohelper  # noqa: E402
from com.sun.star.beans import PropertyValue  # noqa: E402
from com.sun.star.task import XInteractionHandler  # noqa: E402
from com.sun.star.ucb import XCommandEnvironment, XProgressHandler  # noqa: E402

SOFFICE = os.environ.get("ROTATION_SOFFICE", "soffice")


def start(profile):
    """soffice, headless, on its own profile and pipe, in a process group of its own."""
    pipe = "rotation_calc_%d_%d" % (os.getpid(), int(time.time() * 1000) % 100000)
    url = uno.systemPathToFileUrl(os.path.abspath(profile))
    # LibreOffice's embedded Python finds its prefix through the first python3 on PATH: with a pyenv or
    # virtualenv bin first it mixes that interpreter's library with the system libpython, and registering
    # or calling a Python component fails with std::bad_alloc (checked, LO 7.4.7). /usr/bin goes first.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(["/usr/bin", "/bin", env.get("PATH", "")])
    proc = subprocess.Popen([SOFFICE, "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
                             "--nolockcheck", "-env:UserInstallation=" + url,
                             "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % pipe],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=sys.stderr,
                            start_new_session=True, env=env)
    return proc, pipe


def connect(proc, pipe, timeout=60.0):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.time() + timeout
    while True:
        try:
            return resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError("soffice exited with status %s before accepting connections" % proc.returncode)
            if time.time() > deadline:
                raise RuntimeError("soffice did not accept a connection within %.0f s" % timeout)
            time.sleep(0.1)


def stop(proc, ctx=None):
    """Terminate soffice (politely, then its whole process group)."""
    if ctx is not None:
        try:
            ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx).terminate()
        except Exception:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


class _Approve(unohelper.Base, XInteractionHandler):
    def handle(self, request):
        for c in request.getContinuations():
            if c.queryInterface(uno.getTypeByName("com.sun.star.task.XInteractionApprove")):
                c.select()
                return


class _Progress(unohelper.Base, XProgressHandler):
    def push(self, status):
        pass

    def update(self, status):
        pass

    def pop(self):
        pass


class _Environment(unohelper.Base, XCommandEnvironment):
    def getInteractionHandler(self):
        return _Approve()

    def getProgressHandler(self):
        return _Progress()


def install(profile, oxt):
    """Add the extension to the profile's user extensions (replacing an older version); as root
    ``unopkg add`` refuses, the deployment API with an approving interaction handler does not."""
    proc, pipe = start(profile)
    ctx = None
    try:
        ctx = connect(proc, pipe)
        em = ctx.getValueByName("/singletons/com.sun.star.deployment.ExtensionManager")
        pkg = uno.invoke(em, "addExtension", (uno.systemPathToFileUrl(os.path.abspath(oxt)),
                                              uno.Any("[]com.sun.star.beans.NamedValue", ()), "user",
                                              em.createAbortChannel(), _Environment()))
        parts = [p.getURL().rsplit("/", 1)[-1] for p in pkg.getBundle(None, None)]
        state = [bool(p.isRegistered(None, None).Value.Value) for p in pkg.getBundle(None, None)]
        return {"identifier": pkg.getIdentifier().Value, "version": pkg.getVersion(),
                "registered": dict(zip(parts, state))}
    finally:
        stop(proc, ctx)


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def serve(profile):
    proc, pipe = start(profile)
    ctx = None
    try:
        ctx = connect(proc, pipe)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)

        def load(path, hidden=True):
            url = "private:factory/scalc" if path is None else uno.systemPathToFileUrl(os.path.abspath(path))
            return desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", hidden),))

        def dispatch(doc, command):
            frame = doc.getCurrentController().getFrame()
            helper = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
            return helper.executeDispatch(frame, command, "", 0, ())

        scope = {"ctx": ctx, "desktop": desktop, "uno": uno, "prop": prop, "load": load, "dispatch": dispatch,
                 "proc": proc}
        print(json.dumps({"ok": True, "result": "ready"}), flush=True)
        for line in sys.stdin:
            req = json.loads(line)
            if req.get("quit"):
                break
            scope.pop("result", None)
            try:
                exec(req["code"], scope)
                reply = {"ok": True, "result": scope.get("result")}
            except Exception as exc:
                reply = {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc), "trace": traceback.format_exc()}
            reply["alive"] = proc.poll() is None
            print(json.dumps(reply, default=str), flush=True)
    finally:
        stop(proc, ctx)


if __name__ == "__main__":
    if sys.argv[1] == "install":
        print(json.dumps(install(sys.argv[2], sys.argv[3])))
    elif sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        sys.exit("usage: uno_session.py install PROFILE OXT | serve PROFILE")
