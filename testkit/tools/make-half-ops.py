#!/usr/bin/env python3
"""Writes backend-djl's half-ops.pt: the TorchScript helper through which the djl backend casts to and from
bfloat16 and takes a bfloat16 softmax.

DJL 0.36's PyTorch JNI maps only float32, float64, float16, uint8, int32, int8, int64, bool and complex64 to
libtorch's types: NDArray.toType(BFLOAT16), or softmax on a bfloat16 array (DJL passes the array's type), ends
the JVM in std::terminate. Every other op the networks use takes no type and runs on bfloat16 arrays as they are.
So the three calls that need a type go through this module, whose forward(x, op) does, for op:
  0: x.to(torch.bfloat16)   1: x.to(torch.float16)   2: x.float()   3: torch.softmax(x, -1)

Run with Debian's torch (1.13; libtorch 2.7 loads the file):
    /usr/bin/python3 testkit/tools/make-half-ops.py backend-djl/src/main/resources/dev/vitserve/backend/djl/half-ops.pt
"""
import sys

import torch


class HalfOps(torch.nn.Module):
    def forward(self, x: torch.Tensor, op: int) -> torch.Tensor:
        if op == 0:
            return x.to(torch.bfloat16)
        if op == 1:
            return x.to(torch.float16)
        if op == 2:
            return x.float()
        return torch.softmax(x, -1)


if __name__ == "__main__":
    torch.jit.script(HalfOps()).save(sys.argv[1])
