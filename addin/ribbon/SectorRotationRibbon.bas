Attribute VB_Name = "SectorRotationRibbon"
' The one dispatcher of the "Sector Rotation" ribbon tab (addin/ribbon/customUI14.xml).
' Every button's onAction is SectorRotationRibbon.OnAction; the button's id names the Python callback
' (addin.ribbon.callbacks.ACTIONS). With "ROTATION FROZEN" set in the sectorrotation.conf sheet (or the
' config file) to the path of the frozen rotation.exe, the buttons run it through RunFrozenPython
' instead of the Python interpreter of the worksheet functions.
Option Explicit

Public Sub OnAction(control As IRibbonControl)
    Dispatch control.Id
End Sub

Public Sub Dispatch(action As String)
    Dim frozen As String
    frozen = GetConfig("ROTATION FROZEN")
    If frozen <> "" Then
        RunFrozenPython frozen, "addin run " & action
    Else
        RunPython "import addin.ribbon.xl as xl; xl.run('" & action & "')"
    End If
End Sub
