"""HTML bodies the real server produces where a JSON client expects JSON."""

from starlette.responses import HTMLResponse

_PORTAL = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>智邦国际ERP系统</title></head>
<body><div id="login"><form action="/sysa/login.asp" method="post">
<input name="user"><input name="password" type="password"></form></div></body></html>"""

_VBSCRIPT_ERROR = """<html><head><meta charset="utf-8"><title>错误</title></head><body>
<font face="宋体" size=2>Microsoft VBScript 运行时错误</font> <font face="宋体" size=2>
错误 '800a000d'</font><p><font face="宋体" size=2>类型不匹配: 'CLng'</font><p>
<font face="宋体" size=2>/sysa/mobilephone/inc/system.asp</font><font face="宋体" size=2>
，行 412</font></body></html>"""

_IIS_500 = """<html><head><meta charset="utf-8"><title>500 - 内部服务器错误。</title></head>
<body><h2>500 - 内部服务器错误。</h2><h3>您查找的资源存在问题，因而无法显示。</h3></body></html>"""

_THROTTLED = """<html><head><meta charset="utf-8"><title>访问过于频繁</title></head>
<body><h2>访问过于频繁，请稍后再试。</h2></body></html>"""


def portal_page() -> HTMLResponse:
    """An unknown path on the real ERP answers with a portal page under HTTP 200."""
    return HTMLResponse(_PORTAL)


def script_error_page() -> HTMLResponse:
    return HTMLResponse(_VBSCRIPT_ERROR)


def server_error_page() -> HTMLResponse:
    return HTMLResponse(_IIS_500, status_code=500)


def throttled_page(status_code: int, retry_after: int) -> HTMLResponse:
    return HTMLResponse(_THROTTLED, status_code=status_code, headers={"Retry-After": str(retry_after)})
