"""A stand-in third-party module and its import artefacts, shared by the decorator and plugin tests."""

WEATHER = '''\
def forecast(city, days=1):
    return ["sun"] * days


def temperature(city):
    return {"Uppsala": 3.14159, "Lund": 8.0}[city]
'''
IMPORT_ARTEFACTS = '''\
<-PYT:weather.__name__
->RET:'weather'
<-PYT:weather.__path__
->RET:raise AttributeError("module 'weather' has no attribute '__path__'")
'''
