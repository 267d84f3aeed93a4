"""Cacheable first-class function values from compiled dispatchers (numba).

numba's own conversion of a dispatcher to a first-class function value embeds the address of the
Python dispatcher object, which makes the calling function uncacheable ("dynamic globals").
:func:`converter` builds an intrinsic that makes the same value from the compiled symbols only, for
any signature (:data:`latticeclosure.closedmodel.dopri.as_rhs` is the one for right-hand sides). Called with a
global dispatcher inside a jitted function, the function pointer is a compile-time constant: LLVM
inlines the callee into an integrator compiled for a first-class argument, and the caller is cached
on disk like everything else. If numba's internals change, the converter falls back to numba's
conversion (correct, recompiled once per process).
"""

from __future__ import annotations

from typing import Any

from numba import njit, types

__all__ = ["converter"]


def converter(signature: Any) -> Any:
    """An intrinsic ``as_fn(dispatcher) -> FunctionType(signature)`` (see the module documentation)."""
    fty = types.FunctionType(signature)
    try:
        from numba.core import cgutils
        from numba.extending import intrinsic

        @intrinsic
        def as_fn(typingctx, disp):
            if not isinstance(disp, types.Dispatcher):
                return None

            def codegen(context, builder, sig, args):
                toty = fty.get_precise()
                cres = disp.dispatcher.get_compile_result(signature)
                llvoidptr = context.get_value_type(types.voidptr)
                sfunc = cgutils.create_struct_proxy(toty)(context, builder)
                sfunc.py_addr = llvoidptr(None)  # no Python object: nothing dynamic to embed
                llfnty = context.get_value_type(toty.ftype).pointee
                cfn = cgutils.get_or_insert_function(builder.module, llfnty, cres.fndesc.llvm_cfunc_wrapper_name)
                sfunc.c_addr = builder.bitcast(cfn, llvoidptr)
                jfn = context.declare_function(builder.module, cres.fndesc)
                sfunc.jit_addr = builder.bitcast(jfn, llvoidptr)
                context.active_code_library.add_linking_library(cres.library)
                return sfunc._getvalue()

            return fty(disp), codegen

        return as_fn
    except Exception:  # pragma: no cover - numba internals moved: use numba's own conversion

        @njit
        def as_fn(f):
            return f

        return as_fn
