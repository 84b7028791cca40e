# The emulated CUDA device (included by kernels/CMakeLists.txt): kernels/cuda compiled a second time as host C++ (g++, NVIDIA's headers,
# device_shim.h force-included) over a host CUDA runtime and CPU stand-ins for the cuBLAS and
# cuDNN calls. facet_add_emulated_cuda(target) puts all of it into a library target. The ordinary
# build makes `facet_kernels_emulated` — a drop-in libfacet_kernels.so in <build>/emulated/, never
# installed — and the gpu-labelled tests load it instead of the real one when this machine has no
# GPU (tests/CMakeLists.txt). FACET_CUDA=EMULATED makes facet_kernels itself emulated (no nvcc),
# which is how the sanitizer build runs the GPU tests.
find_package(Boost 1.66 REQUIRED COMPONENTS context)

file(GLOB FACET_CUDA_KERNEL_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cuda/*.cu)
file(GLOB FACET_CUDA_HOST_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cuda/*.cpp)
file(GLOB FACET_CUDA_EMU_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cuda_emu/*.cpp)

# Each .cu file through a one-line .cpp, so the same source is CUDA in one target and C++ here.
set(FACET_CUDA_EMU_WRAPPERS "")
foreach(cu ${FACET_CUDA_KERNEL_SOURCES})
  get_filename_component(stem ${cu} NAME_WE)
  set(wrapper ${PROJECT_BINARY_DIR}/kernels/cuda_emu/${stem}.cpp)
  file(CONFIGURE OUTPUT ${wrapper} CONTENT "#include \"${cu}\"\n")
  list(APPEND FACET_CUDA_EMU_WRAPPERS ${wrapper})
endforeach()

function(facet_add_emulated_cuda target)
  target_sources(${target} PRIVATE ${FACET_CUDA_EMU_WRAPPERS} ${FACET_CUDA_HOST_SOURCES} ${FACET_CUDA_EMU_SOURCES})
  target_include_directories(${target} PRIVATE ${FACET_CUDA_INCLUDE_DIRS})
  target_compile_options(${target} PRIVATE -include ${PROJECT_SOURCE_DIR}/kernels/cuda_emu/device_shim.h
                         -ffp-contract=off)
  target_link_libraries(${target} PRIVATE Boost::context Threads::Threads)
  # Resolve our own cuda*/cudnn*/cublas* functions inside the library, never against a real
  # libcudart that something else in the process loaded; and leave nothing undefined.
  target_link_options(${target} PRIVATE -Wl,-Bsymbolic-functions)
  if(NOT FACET_SANITIZE)  # sanitizer runtimes are resolved from the executable
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
  endif()
endfunction()
