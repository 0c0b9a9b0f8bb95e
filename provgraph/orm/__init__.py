"""The front-end ORM: nodes, links, files, and the other entities of the provenance graph.

Every name is imported from the module that defines it; nothing here talks to
a database directly (that is the storage backend's job).
"""

from __future__ import annotations

from provgraph.common.links import LinkType
from provgraph.orm.computers import Computer, User, load_computer
from provgraph.orm.groups import Group, load_group
from provgraph.orm.nodes.data.array import ArrayData
from provgraph.orm.nodes.data.array_xy import XyData
from provgraph.orm.nodes.data.bands import BandsData
from provgraph.orm.nodes.data.base import BaseType
from provgraph.orm.nodes.data.bool_ import Bool
from provgraph.orm.nodes.data.cif import CifData
from provgraph.orm.nodes.data.code import AbstractCode, InstalledCode, PortableCode
from provgraph.orm.nodes.data.code_containerized import ContainerizedCode
from provgraph.orm.nodes.data.containers import Dict, List
from provgraph.orm.nodes.data.data import Data
from provgraph.orm.nodes.data.enum import EnumData
from provgraph.orm.nodes.data.files import FolderData, SinglefileData
from provgraph.orm.nodes.data.jsonable import JsonableData
from provgraph.orm.nodes.data.kpoints import KpointsData
from provgraph.orm.nodes.data.numeric import Float, Int, NumericType
from provgraph.orm.nodes.data.remote import RemoteData
from provgraph.orm.nodes.data.remote_stash import RemoteStashCompressedData, RemoteStashData, RemoteStashFolderData
from provgraph.orm.nodes.data.str_ import Str
from provgraph.orm.nodes.data.structure import StructureData
from provgraph.orm.nodes.data.trajectory import TrajectoryData
from provgraph.orm.nodes.data.upf import UpfData
from provgraph.orm.nodes.node import Node
from provgraph.orm.nodes.process.process import (
    CalcFunctionNode,
    CalcJobNode,
    CalculationNode,
    ProcessNode,
    WorkChainNode,
    WorkflowNode,
    WorkFunctionNode,
)
from provgraph.orm.querybuilder import QueryBuilder
from provgraph.orm.serializers import to_aiida_type, to_provgraph_type
from provgraph.orm.utils import load_code, load_node

__all__ = [
    "to_aiida_type", "to_provgraph_type",
    "AbstractCode",
    "ArrayData",
    "BaseType",
    "Bool",
    "CalcFunctionNode",
    "CalcJobNode",
    "CalculationNode",
    "Computer",
    "Data",
    "Dict",
    "Float",
    "FolderData",
    "Group",
    "InstalledCode",
    "Int",
    "LinkType",
    "List",
    "Node",
    "NumericType",
    "PortableCode",
    "ContainerizedCode",
    "ProcessNode",
    "QueryBuilder",
    "RemoteData",
    "SinglefileData",
    "Str",
    "StructureData",
    "User",
    "WorkChainNode",
    "WorkflowNode",
    "WorkFunctionNode",
    "load_code",
    "load_computer",
    "load_group",
    "load_node",
    "BandsData", "CifData", "EnumData", "JsonableData", "KpointsData", "RemoteStashData",
    "RemoteStashFolderData", "RemoteStashCompressedData", "TrajectoryData", "UpfData", "XyData",
]
